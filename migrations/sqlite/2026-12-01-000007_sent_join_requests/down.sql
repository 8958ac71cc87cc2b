DROP TABLE sent_join_requests;
