//! What module functions keep for the rest of one script run: headers and
//! a body for the reply `sl_send_reply` may build (`append_to_reply`,
//! `set_reply_body`), the messages `msg_apply_changes` produced, and the
//! named locks the run holds.

use super::shared_state::Shared;
use super::{level, Logger};
use crate::sip::SipMessage;
use std::cell::OnceCell;
use std::sync::Arc;

/// Messages rebuilt by `msg_apply_changes`, alive until the run ends. A
/// chain of write-once cells: each push hands out a reference that stays
/// valid while later pushes add cells, without unsafe code.
#[derive(Default)]
pub(crate) struct Rebuilt {
    msg: OnceCell<SipMessage>,
    next: OnceCell<Box<Rebuilt>>,
}

impl Rebuilt {
    pub fn push(&self, msg: SipMessage) -> &SipMessage {
        let mut node = self;
        loop {
            if node.msg.get().is_none() {
                return node.msg.get_or_init(|| msg);
            }
            node = node.next.get_or_init(Box::default);
        }
    }
}

pub(crate) struct MsgState<'m> {
    /// `append_to_reply`: (name, value) pairs, in order.
    pub reply_headers: Vec<(String, String)>,
    /// `set_reply_body`: (content type, body).
    pub reply_body: Option<(String, String)>,
    pub rebuilt: &'m Rebuilt,
    /// This run's identity in the lock table.
    pub run: u64,
    shared: Arc<Shared>,
    logger: Arc<dyn Logger>,
}

impl<'m> MsgState<'m> {
    pub fn new(rebuilt: &'m Rebuilt, shared: Arc<Shared>, logger: Arc<dyn Logger>) -> Self {
        MsgState {
            reply_headers: Vec::new(),
            reply_body: None,
            rebuilt,
            run: shared.next_run(),
            shared,
            logger,
        }
    }
}

/// Locks a run still holds when it ends: Kamailio would keep them locked
/// and the next worker asking would wait forever; here they are released
/// with an error line each.
impl Drop for MsgState<'_> {
    fn drop(&mut self) {
        for key in self.shared.locks.release_all(self.run) {
            self.logger.log(
                level::L_ERR,
                &format!(
                    "sercompat: lock `{key}` was still held when the script ended; released\n"
                ),
            );
        }
    }
}
