//! Timer values and the tm module parameters that choose between
//! behaviours RFC 3261 leaves open.

use std::time::Duration;

/// The timers of one transaction. The table's defaults are copied into
/// each cell when it is created; `t_set_fr` and `t_set_retr` change the
/// copy, so the change affects the branches that cell creates afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    /// RFC 3261 T1, the round-trip estimate (tm `retr_timer1`).
    pub t1: Duration,
    /// RFC 3261 T2, the cap of non-INVITE retransmission intervals (tm
    /// `retr_timer2`).
    pub t2: Duration,
    /// Cap Timer A (INVITE retransmissions) at T2 like Timer E. RFC 3261
    /// §17.1.1.2 doubles it without a cap (0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s);
    /// Kamailio 5.6 caps it (0.5, 1.5, 3.5, 7.5, 11.5, 15.5, ... s, measured
    /// with `t_relay` to a silent UDP peer). Off by default: the RFC says.
    pub cap_timer_a_at_t2: bool,
    /// RFC 3261 T4, how long the network may hold a message.
    pub t4: Duration,
    /// tm `fr_timer`: a branch gets no final reply within this time (for an
    /// INVITE: no reply at all) and the proxy answers it with a local 408.
    pub fr: Duration,
    /// tm `fr_inv_timer`: an INVITE branch got a provisional reply but no
    /// final one within this time (restarted by every provisional, as
    /// Kamailio's `restart_fr_on_each_reply` default does).
    pub fr_inv: Duration,
    /// RFC 3261 Timer D, how long a client INVITE transaction absorbs
    /// retransmitted non-2xx finals over an unreliable transport ("at least
    /// 32 s").
    pub timer_d: Duration,
    /// tm `max_inv_lifetime`: an INVITE transaction without a final reply
    /// this long after it was created is answered with a local 408 (its
    /// branches stop), whatever the other timers say.
    pub max_inv_lifetime: Duration,
    /// tm `max_noninv_lifetime`, the same for other methods.
    pub max_noninv_lifetime: Duration,
    /// tm `wt_timer`: how long a released cell (`t_release`) keeps
    /// absorbing retransmissions before it is freed.
    pub wait: Duration,
}

impl Timers {
    /// 64*T1: Timers B, F, H, J, L and M.
    pub fn t1x64(&self) -> Duration {
        self.t1 * 64
    }

    /// The values brought into range: a zero retransmission interval
    /// would fire forever at one instant, and a huge one would overflow
    /// `Instant` arithmetic.
    pub fn clamped(self) -> Timers {
        let interval = |d: Duration| d.clamp(Duration::from_millis(1), Duration::from_secs(3_600));
        let long = |d: Duration| d.min(Duration::from_secs(30 * 86_400));
        Timers {
            t1: interval(self.t1),
            t2: interval(self.t2),
            cap_timer_a_at_t2: self.cap_timer_a_at_t2,
            t4: long(self.t4),
            fr: long(self.fr),
            fr_inv: long(self.fr_inv),
            timer_d: long(self.timer_d),
            max_inv_lifetime: long(self.max_inv_lifetime),
            max_noninv_lifetime: long(self.max_noninv_lifetime),
            wait: long(self.wait),
        }
    }
}

impl Default for Timers {
    /// RFC 3261 §17 / Appendix A and Kamailio tm's defaults.
    fn default() -> Self {
        Timers {
            t1: Duration::from_millis(500),
            t2: Duration::from_millis(4_000),
            cap_timer_a_at_t2: false,
            t4: Duration::from_millis(5_000),
            fr: Duration::from_millis(30_000),
            fr_inv: Duration::from_millis(120_000),
            timer_d: Duration::from_millis(32_000),
            max_inv_lifetime: Duration::from_millis(180_000),
            max_noninv_lifetime: Duration::from_millis(32_000),
            wait: Duration::from_millis(5_000),
        }
    }
}

/// What happens to a pending INVITE branch that never sent a provisional
/// reply when the transaction is canceled (tm `cancel_b_method`). RFC 3261
/// §9.1 forbids sending the CANCEL before a provisional reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnrepliedCancel {
    /// 0: stop retransmitting and complete the branch with a local 487
    /// at once.
    Fake487,
    /// 1 (Kamailio's default): keep retransmitting; send the CANCEL when
    /// a provisional reply arrives; if the branch times out, it completes
    /// with a local 487.
    #[default]
    WaitForProvisional,
    /// 2: send (and retransmit) the CANCEL now, stop retransmitting the
    /// INVITE.
    SendNow,
}

/// tm `failure_reply_mode`: which replies of earlier branches still
/// compete for the best reply once a failure route forked serially.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailureReplyMode {
    /// 0: every branch's reply competes (Kamailio before 4.3, SER).
    #[default]
    KeepAll,
    /// 1: only the branches of the new step compete.
    DropAll,
    /// 2: the new step's branches and those of the step just failed.
    KeepLastStep,
    /// 3: the new step's branches and the reply the failure route saw
    /// (the best of the earlier steps) — Kamailio 4.3+'s default.
    KeepBest,
}

impl FailureReplyMode {
    /// The parameter's number; `None` for a value Kamailio rejects.
    pub fn from_param(n: i64) -> Option<FailureReplyMode> {
        Some(match n {
            0 => FailureReplyMode::KeepAll,
            1 => FailureReplyMode::DropAll,
            2 => FailureReplyMode::KeepLastStep,
            3 => FailureReplyMode::KeepBest,
            _ => return None,
        })
    }
}

/// The table's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TmConfig {
    pub timers: Timers,
    /// tm `auto_inv_100`: answer an INVITE with 100 Trying as soon as it
    /// is relayed.
    pub auto_inv_100: bool,
    pub cancel_b_method: UnrepliedCancel,
    /// tm `remap_503_500`: a 503 chosen as the best reply goes upstream as
    /// 500 (RFC 3261 §16.7 step 6: a 503 would make the upstream element
    /// believe this proxy is overloaded).
    pub remap_503_500: bool,
    /// tm `aggregate_challenges`: when the best reply is a 401 or 407, the
    /// WWW-Authenticate and Proxy-Authenticate fields of every other 401
    /// and 407 branch reply are added to it (RFC 3261 §16.7 step 7).
    pub aggregate_challenges: bool,
    pub failure_reply_mode: FailureReplyMode,
    /// Emit [`super::Event::Replied`] when a cell's first final reply goes
    /// upstream (the acc module is loaded).
    pub report_finals: bool,
    /// Also emit [`super::Event::Replied`] for each relayed 183 with a
    /// body (acc `early_media`).
    pub report_early_media: bool,
    /// Goes into every branch we make, so branches of another instance
    /// (or of an earlier run) do not match ours. A token.
    pub instance: String,
    /// Reason phrases of local replies. The 100 is Kamailio's.
    pub reason_100: String,
    pub reason_408: String,
    pub reason_487: String,
    /// The 200 to a CANCEL that matched ("canceling", as Kamailio says).
    pub reason_cancel_ok: String,
}

impl TmConfig {
    /// The reason phrase of a reply made up here for a branch: 487 when
    /// it was canceled, 408 when it timed out.
    pub fn local_reason(&self, code: u16) -> &str {
        if code == 487 {
            &self.reason_487
        } else {
            &self.reason_408
        }
    }
}

impl Default for TmConfig {
    fn default() -> Self {
        TmConfig {
            timers: Timers::default(),
            auto_inv_100: true,
            cancel_b_method: UnrepliedCancel::default(),
            remap_503_500: true,
            aggregate_challenges: true,
            failure_reply_mode: FailureReplyMode::default(),
            report_finals: false,
            report_early_media: false,
            instance: "sc".to_string(),
            reason_100: "trying -- your call is important to us".to_string(),
            reason_408: "Request Timeout".to_string(),
            reason_487: "Request Terminated".to_string(),
            reason_cancel_ok: "canceling".to_string(),
        }
    }
}
