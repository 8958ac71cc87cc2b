//! The message writer: one task per database that stores messages in
//! batches (group commit). Whatever arrives while a commit is running goes
//! into the next one, so at low load a message commits alone at once and at
//! high load one commit (one fsync) carries hundreds. After the commit it
//! publishes each message in commit order, then answers the senders: an
//! acknowledged message is durable. Every message (system ones too) goes
//! through here, and the writer gives each its id when it takes it, so ids
//! ascend in commit order and catch-up by id has no gaps.

use super::events::{ChatEvent, EventBus, Notice};
use super::media::MediaItem;
use super::stickers::Sticker;
use super::views::Message;
use super::{ChatError, ChatResult};
use crate::db::ids::UserId;
use crate::db::media::{AttachmentRow, MediaRow};
use crate::db::messages::{self as rows, MessageRow};
use crate::db::{Db, DbError};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};

/// Most messages in one transaction.
const BATCH_MAX: usize = 512;
/// Messages waiting for the writer before senders wait to enqueue.
const QUEUE: usize = 8192;

/// What the writer answers: the stored row, or the one already stored under
/// the same request id (then nothing was published).
pub enum Stored {
    /// Stored now, with the attachments readers are shown.
    New(MessageRow, Vec<MediaItem>),
    Existing(MessageRow),
}

struct Job {
    row: MessageRow,
    audience: Vec<UserId>,
    attached: Attached,
    reply: oneshot::Sender<Result<Stored, DbError>>,
}

/// Media a message carries: the rows stored with it (their message id is
/// set when the row gets its final id) and what readers are shown; or the
/// sticker a `sticker` message shows.
#[derive(Debug, Clone, Default)]
pub struct Attached {
    pub rows: Vec<AttachmentRow>,
    /// The media of each row, in the same order: federation builds the
    /// outgoing `Note` from them without reading them back.
    pub media: Vec<MediaRow>,
    pub views: Vec<MediaItem>,
    /// Stored as the row's `sticker_id`, shown in the push.
    pub sticker: Option<Sticker>,
}

impl Attached {
    /// Each attachment row with its media, as federation takes them.
    pub fn pairs(&self) -> Vec<(AttachmentRow, MediaRow)> {
        self.rows
            .iter()
            .cloned()
            .zip(self.media.iter().cloned())
            .collect()
    }
}

/// Handle to the writer task.
pub struct MessageWriter {
    jobs: mpsc::Sender<Job>,
}

impl MessageWriter {
    /// Starts the writer task for `db`.
    pub fn start(db: Db, events: Arc<dyn EventBus>) -> Self {
        let (jobs, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(db, events, rx));
        Self { jobs }
    }

    /// Stores `row`, publishes it to `audience`, and returns once durable.
    pub async fn write(&self, row: MessageRow, audience: Vec<UserId>) -> ChatResult<Stored> {
        self.write_with(row, audience, Attached::default()).await
    }

    /// [`MessageWriter::write`] for a message with attachments, stored in
    /// the same transaction (a media item another message took meanwhile
    /// fails the send with a conflict).
    pub async fn write_with(
        &self,
        row: MessageRow,
        audience: Vec<UserId>,
        attached: Attached,
    ) -> ChatResult<Stored> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job {
                row,
                audience,
                attached,
                reply,
            })
            .await
            .map_err(|_| ChatError::Internal("the message writer stopped".into()))?;
        answer
            .await
            .map_err(|_| ChatError::Internal("the message writer dropped a message".into()))?
            .map_err(ChatError::from)
    }
}

async fn run(db: Db, events: Arc<dyn EventBus>, mut jobs: mpsc::Receiver<Job>) {
    while let Some(first) = jobs.recv().await {
        let mut batch = vec![first];
        while batch.len() < BATCH_MAX {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit(&db, events.as_ref(), batch).await;
    }
}

/// Commits a batch; if it fails, retries each message alone so that one bad
/// message (a duplicate request id) does not fail the others.
async fn commit(db: &Db, events: &dyn EventBus, mut batch: Vec<Job>) {
    for job in &mut batch {
        job.row.stamp();
        job.row.sticker_id = job.attached.sticker.as_ref().map(|s| s.id);
        for attachment in &mut job.attached.rows {
            attachment.message_id = job.row.id;
        }
    }
    let rows: Vec<MessageRow> = batch.iter().map(|j| j.row.clone()).collect();
    let attachments: Vec<AttachmentRow> = batch
        .iter()
        .flat_map(|j| j.attached.rows.iter().cloned())
        .collect();
    let started = Instant::now();
    let result = match db.write().await {
        Ok(mut conn) => rows::insert_all(&mut conn, &rows, &attachments).await,
        Err(e) => Err(e),
    };
    metrics::histogram!("confab_writer_batch_size").record(rows.len() as f64);
    metrics::histogram!("confab_writer_commit_seconds").record(started.elapsed().as_secs_f64());
    match result {
        Ok(()) => batch.into_iter().for_each(|job| publish(events, job)),
        Err(e) if batch.len() == 1 => {
            let job = batch.into_iter().next().map(|job| (job, e));
            if let Some((job, e)) = job {
                answer_failure(db, job, e).await;
            }
        }
        Err(_) => {
            for job in batch {
                let single = match db.write().await {
                    Ok(mut conn) => {
                        let row = std::slice::from_ref(&job.row);
                        rows::insert_all(&mut conn, row, &job.attached.rows).await
                    }
                    Err(e) => Err(e),
                };
                match single {
                    Ok(()) => publish(events, job),
                    Err(e) => answer_failure(db, job, e).await,
                }
            }
        }
    }
}

fn publish(events: &dyn EventBus, job: Job) {
    metrics::counter!("confab_messages_stored_total").increment(1);
    match Message::try_from(job.row.clone()) {
        Ok(mut message) => {
            message.attachments = job.attached.views.clone();
            message.sticker = job.attached.sticker.clone();
            if !job.audience.is_empty() {
                events.publish(ChatEvent::Notify {
                    audience: job.audience,
                    notice: Box::new(Notice::MessageCreated(message)),
                });
            }
            let _ = job.reply.send(Ok(Stored::New(job.row, job.attached.views)));
        }
        Err(e) => {
            let _ = job.reply.send(Err(e));
        }
    }
}

/// A duplicate request id answers with the message stored first; any other
/// failure is passed on.
async fn answer_failure(db: &Db, job: Job, error: DbError) {
    let (Some(author), Some(client_id), DbError::UniqueViolation) =
        (job.row.author_id, job.row.client_id.as_deref(), &error)
    else {
        let _ = job.reply.send(Err(error));
        return;
    };
    let existing = match db.write().await {
        Ok(mut conn) => rows::find_by_client_id(&mut conn, author, client_id).await,
        Err(e) => Err(e),
    };
    let answer = match existing {
        Ok(Some(row)) => Ok(Stored::Existing(row)),
        Ok(None) => Err(error),
        Err(e) => Err(e),
    };
    let _ = job.reply.send(answer);
}
