//! Contacts and blocks on the wire: the `Follow` ids of a link, `Accept`,
//! `Reject` and `Undo` of follows, `Block` and `Undo{Block}`.

use super::{url, with_context, Queue};
use crate::apub::activities::accept::{Accept, FollowRef};
use crate::apub::activities::block::Block;
use crate::apub::activities::follow::Follow;
use crate::apub::activities::reject::Reject;
use crate::apub::activities::undo::{Undo, Undoable};
use crate::apub::objects::person::ApubUser;
use crate::chat::federation::ContactChange;
use crate::chat::ChatResult;
use crate::db::contacts::{self as contact_rows, ContactRow};
use crate::db::ids::UserId;
use activitypub_federation::kinds::activity::BlockType;
use serde_json::Value;
use url::Url;

impl Queue {
    /// The id of `follower`'s `Follow` of `followed` made when the link row
    /// was created (or, for the reciprocal follow, accepted).
    pub(super) fn follow_id(
        &self,
        follower: &ApubUser,
        followed: &ApubUser,
        at: chrono::NaiveDateTime,
    ) -> ChatResult<Url> {
        url(&format!(
            "{}/users/{}/follows/{}/{}",
            self.base(),
            follower.row.name,
            followed.id(),
            at.and_utc().timestamp_millis()
        ))
    }

    /// The `Follow` a link row stands for (the requester's), with the id the
    /// remote side gave it when it was theirs.
    pub(super) fn row_follow(
        &self,
        row: &ContactRow,
        requester: &ApubUser,
        addressee: &ApubUser,
    ) -> ChatResult<Follow> {
        let id = match &row.follow_id {
            Some(id) => url(id)?,
            None => self.follow_id(requester, addressee, row.created_at)?,
        };
        Ok(Follow::new(id, requester, addressee))
    }

    /// The reciprocal `Follow` (addressee → requester) sent on acceptance.
    pub(super) fn reciprocal_follow(
        &self,
        row: &ContactRow,
        requester: &ApubUser,
        addressee: &ApubUser,
    ) -> ChatResult<Follow> {
        Ok(Follow::new(
            self.follow_id(addressee, requester, row.updated_at)?,
            addressee,
            requester,
        ))
    }

    /// Answers a remote `Follow` with `Accept` (the link is accepted).
    pub async fn accept_follow(
        &self,
        local: &ApubUser,
        remote: &ApubUser,
        follow: &Follow,
    ) -> ChatResult<()> {
        let accept = Accept::of(
            url(&self.urls().new_activity())?,
            local.ap_id.clone(),
            vec![remote.ap_id.clone()],
            FollowRef::Embedded(follow.clone()),
        );
        self.ensure_key(local).await?;
        self.enqueue(
            &local.ap_id,
            with_context(&accept)?,
            &accept.id,
            std::slice::from_ref(remote),
            None,
        )
        .await
    }

    pub(super) async fn contact(
        &self,
        actor: UserId,
        change: ContactChange,
        row: ContactRow,
    ) -> ChatResult<()> {
        let requester = self.actor(row.requester_id).await?;
        let addressee = self.actor(row.addressee_id).await?;
        let (local, remote) = if actor == requester.id() {
            (&requester, &addressee)
        } else {
            (&addressee, &requester)
        };
        if !local.is_local() || remote.is_local() {
            return Ok(());
        }
        self.ensure_key(local).await?;
        let follow = self.row_follow(&row, &requester, &addressee)?;
        let me = local.ap_id.clone();
        let fresh = || url(&self.urls().new_activity());
        let accept = |f: Follow| -> ChatResult<Accept> {
            Ok(Accept::of(
                fresh()?,
                me.clone(),
                vec![],
                FollowRef::Embedded(f),
            ))
        };
        let reject = |f: Follow| -> ChatResult<Reject> {
            Ok(Reject::of(
                fresh()?,
                me.clone(),
                vec![],
                FollowRef::Embedded(f),
            ))
        };
        let undo = |f: Follow| -> ChatResult<Undo> {
            Ok(Undo::of(fresh()?, me.clone(), Undoable::Follow(f)))
        };
        let queued = |id: &Url, activity: Value| (id.clone(), activity);
        let mut activities: Vec<(Url, Value)> = vec![];
        match change {
            ContactChange::Invited => activities.push(queued(&follow.id, with_context(&follow)?)),
            ContactChange::Accepted => {
                let reciprocal = self.reciprocal_follow(&row, &requester, &addressee)?;
                let a = accept(follow)?;
                activities.push(queued(&a.id, with_context(&a)?));
                activities.push(queued(&reciprocal.id, with_context(&reciprocal)?));
            }
            ContactChange::Declined => {
                let r = reject(follow)?;
                activities.push(queued(&r.id, with_context(&r)?));
            }
            ContactChange::Cancelled => {
                let u = undo(follow)?;
                activities.push(queued(&u.id, with_context(&u)?));
            }
            ContactChange::Removed => {
                let reciprocal = self.reciprocal_follow(&row, &requester, &addressee)?;
                let (own, theirs) = if local.id() == requester.id() {
                    (follow, reciprocal)
                } else {
                    (reciprocal, follow)
                };
                let (u, r) = (undo(own)?, reject(theirs)?);
                activities.push(queued(&u.id, with_context(&u)?));
                activities.push(queued(&r.id, with_context(&r)?));
            }
        }
        for (id, activity) in activities {
            self.enqueue(
                &local.ap_id,
                activity,
                &id,
                std::slice::from_ref(remote),
                None,
            )
            .await?;
        }
        Ok(())
    }

    /// Sends `Block` (each with a fresh id, remembered on the block row)
    /// or, when the block is lifted, `Undo` of the `Block` it undoes.
    pub(super) async fn block(
        &self,
        blocker: UserId,
        blocked: UserId,
        active: bool,
        undone: Option<String>,
    ) -> ChatResult<()> {
        if !self.config.federation_send_blocks {
            return Ok(());
        }
        let blocker = self.actor(blocker).await?;
        let blocked = self.actor(blocked).await?;
        if !blocker.is_local() || blocked.is_local() {
            return Ok(());
        }
        self.ensure_key(&blocker).await?;
        let id = match undone.filter(|_| !active) {
            Some(sent) => url(&sent)?,
            // A new block; or the undo of one whose Block was never sent
            // (sending was off) or predates Blocks having their own ids:
            // peers match an undone Block by its actor and object.
            None => url(&self.urls().new_block(&blocker.row.name))?,
        };
        let block = Block {
            id,
            kind: BlockType::Block,
            actor: blocker.ap_id.clone().into(),
            object: blocked.ap_id.clone().into(),
        };
        if active {
            contact_rows::set_block_activity(
                &mut self.db.write().await?,
                blocker.id(),
                blocked.id(),
                block.id.as_str(),
            )
            .await?;
            return self
                .enqueue(
                    &blocker.ap_id,
                    with_context(&block)?,
                    &block.id.clone(),
                    &[blocked],
                    None,
                )
                .await;
        }
        let undo = Undo::of(
            url(&self.urls().new_activity())?,
            blocker.ap_id.clone(),
            Undoable::Block(block),
        );
        self.enqueue(
            &blocker.ap_id,
            with_context(&undo)?,
            &undo.id,
            &[blocked],
            None,
        )
        .await
    }
}
