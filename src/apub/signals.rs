//! Presence and typing leave this server here: each [`Signal`] from `chat`
//! becomes one `Presence` or `Typing` activity (or, in a group hosted here,
//! an `Announce{Typing}` by the group), sent at once to each distinct
//! inbox (shared inboxes collapse recipients on one server) through the
//! delivery worker's signing and guarded client, without a delivery row
//! and without retries (see [`Delivery::send_ephemeral`]). At most
//! [`MAX_IN_FLIGHT`] signals are being sent at once; beyond that new ones
//! are dropped, as a lost one is corrected by the next.

use super::activities::announce::{Announce, Relayed};
use super::activities::presence::{terms, Presence};
use super::activities::typing::Typing;
use super::delivery::Delivery;
use super::objects::person::{host_with_port, ApubUser};
use super::outbox::{url, with_context, Queue};
use super::urls;
use crate::chat::federation::Signal;
use crate::chat::views::Status;
use crate::chat::ChatResult;
use crate::config::Config;
use crate::db::ids::{ConversationId, UserId};
use chrono::Utc;
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;
use tokio::sync::Semaphore;
use url::Url;

/// Signals being sent at once, at most; more are dropped.
pub const MAX_IN_FLIGHT: usize = 256;

/// How many refresh intervals a `Presence` holds for (its `endTime`): a
/// receiver that misses two announcements in a row still shows the user.
pub const VALID_FOR_REFRESHES: u32 = 3;

/// Sends signals best-effort.
pub struct Signals {
    queue: Arc<Queue>,
    delivery: Arc<Delivery>,
    config: Arc<Config>,
    in_flight: Arc<Semaphore>,
}

impl Signals {
    pub fn new(queue: Arc<Queue>, delivery: Arc<Delivery>, config: Arc<Config>) -> Self {
        Self {
            queue,
            delivery,
            config,
            in_flight: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
        }
    }

    /// Starts sending `signal` and returns at once; drops it when
    /// [`MAX_IN_FLIGHT`] signals are already being sent.
    pub fn send(self: &Arc<Self>, signal: Signal) {
        let Ok(permit) = self.in_flight.clone().try_acquire_owned() else {
            metrics::counter!("confab_ephemeral_dropped_total").increment(1);
            return;
        };
        let this = self.clone();
        tokio::spawn(async move {
            let _permit = permit;
            if let Err(e) = this.deliver(signal).await {
                tracing::debug!(error = %e, "a presence or typing signal was not sent");
            }
        });
    }

    async fn deliver(&self, signal: Signal) -> ChatResult<()> {
        match signal {
            Signal::Presence {
                user,
                status,
                recipients,
            } => self.presence(user, status, &recipients).await,
            Signal::Typing {
                user,
                conversation,
                typing,
                recipients,
            } => self.typing(user, conversation, typing, &recipients).await,
        }
    }

    async fn actors(&self, users: &[UserId]) -> ChatResult<Vec<ApubUser>> {
        let mut actors = vec![];
        for user in users {
            actors.push(self.queue.actor(*user).await?);
        }
        Ok(actors)
    }

    async fn presence(
        &self,
        user: UserId,
        status: Status,
        recipients: &[UserId],
    ) -> ChatResult<()> {
        let actor = self.queue.actor(user).await?;
        if !actor.is_local() {
            return Ok(());
        }
        self.queue.ensure_key(&actor).await?;
        let remote = self.actors(recipients).await?;
        let published = Utc::now();
        let refresh = chrono::Duration::seconds(self.config.federation_presence_refresh_s as i64);
        let presence = Presence::new(
            url(&self.queue.urls().new_signal(&actor.row.name, "presence"))?,
            actor.ap_id.clone(),
            remote.iter().map(|r| r.ap_id.clone()).collect(),
            status,
            published,
            published + refresh * VALID_FOR_REFRESHES as i32,
        );
        let inboxes = remote.iter().map(ApubUser::delivery_inbox).collect();
        self.fan_out(&actor.ap_id, presence, inboxes).await
    }

    async fn typing(
        &self,
        user: UserId,
        conversation: ConversationId,
        typing: bool,
        recipients: &[UserId],
    ) -> ChatResult<()> {
        let row = self.queue.conversation(conversation).await?;
        let typist = self.queue.actor(user).await?;
        let mut remote = self.actors(recipients).await?;
        let urls = self.queue.urls();
        match (row.kind.as_str(), &row.ap_id) {
            ("direct", _) if typist.is_local() => {
                self.queue.ensure_key(&typist).await?;
                let to = remote.iter().map(|r| r.ap_id.clone()).collect();
                let id = url(&urls.new_signal(&typist.row.name, "typing"))?;
                let activity = Typing::new(id, typist.ap_id.clone(), to, None, typing);
                let inboxes = remote.iter().map(ApubUser::delivery_inbox).collect();
                self.fan_out(&typist.ap_id, activity, inboxes).await
            }
            ("group", Some(group)) if typist.is_local() => {
                // Hosted elsewhere: the host relays.
                self.queue.ensure_key(&typist).await?;
                let group = url(group)?;
                let inbox = url(row.inbox.as_deref().unwrap_or(group.as_str()))?;
                let id = url(&urls.new_signal(&typist.row.name, "typing"))?;
                let to = vec![group.clone()];
                let activity = Typing::new(id, typist.ap_id.clone(), to, Some(group), typing);
                self.fan_out(&typist.ap_id, activity, vec![inbox]).await
            }
            ("group", None) => {
                // Hosted here: the group relays to every member's server
                // but the typist's own.
                let group = self.queue.group_actor(row).await?;
                let typist_host = host_with_port(&typist.ap_id);
                remote.retain(|r| host_with_port(&r.ap_id) != typist_host);
                let inner_id = match typist.is_local() {
                    true => url(&urls.new_signal(&typist.row.name, "typing"))?,
                    false => url(&format!("{}#typing/{}", typist.ap_id, uuid::Uuid::now_v7()))?,
                };
                let inner = Typing::new(
                    inner_id.clone(),
                    typist.ap_id.clone(),
                    vec![group.ap_id.clone()],
                    Some(group.ap_id.clone()),
                    typing,
                );
                let id = url(&urls::relay(&group.ap_id, &inner_id))?;
                let to = remote.iter().map(|r| r.ap_id.clone()).collect();
                let announce = Announce::relay(id, group.ap_id.clone(), to, Relayed::Typing(inner));
                let inboxes = remote.iter().map(ApubUser::delivery_inbox).collect();
                self.fan_out(&group.ap_id, announce, inboxes).await
            }
            _ => Ok(()),
        }
    }

    /// Sends `activity`, signed by `signer`, once to each distinct inbox,
    /// all at once.
    async fn fan_out(
        &self,
        signer: &Url,
        activity: impl Serialize,
        mut inboxes: Vec<Url>,
    ) -> ChatResult<()> {
        inboxes.sort();
        inboxes.dedup();
        if inboxes.is_empty() {
            return Ok(());
        }
        let mut activity = with_context(activity)?;
        if let Some(Value::Array(context)) = activity.get_mut("@context") {
            context.push(terms());
        }
        let body = activity.to_string();
        let sends = inboxes
            .iter()
            .map(|inbox| self.delivery.send_ephemeral(signer.as_str(), inbox, &body));
        futures_util::future::join_all(sends).await;
        Ok(())
    }
}
