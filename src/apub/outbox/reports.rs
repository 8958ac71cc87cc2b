//! Reports on the wire: a local user's report about a remote user,
//! forwarded as a `Flag` from the instance actor (so the reporter stays
//! anonymous, as with Mastodon) to the reported user's server.

use super::{url, with_context, Queue};
use crate::apub::activities::flag::Flag;
use crate::chat::ChatResult;
use crate::db::ids::{MessageId, ReportId, UserId};
use crate::db::messages as message_rows;

impl Queue {
    /// Queues the `Flag` of report `report` about `target` and `messages`
    /// of theirs (those that still exist).
    pub(super) async fn flag(
        &self,
        report: ReportId,
        target: UserId,
        messages: &[MessageId],
        comment: String,
    ) -> ChatResult<()> {
        let target = self.actor(target).await?;
        if target.is_local() {
            return Ok(());
        }
        let mut objects = vec![];
        for id in messages {
            if let Some(row) = message_rows::find(&mut self.db.read().await?, *id).await? {
                objects.push(self.message_url(&row, false)?);
            }
        }
        let urls = self.urls();
        let flag = Flag::new(
            url(&urls.report(report))?,
            url(&urls.instance_actor())?,
            target.ap_id.clone(),
            objects,
            comment,
        );
        let inbox = [(target.delivery_inbox(), Some(target.id()))];
        self.enqueue_to(&flag.actor, with_context(&flag)?, &flag.id, &inbox, None)
            .await
    }
}
