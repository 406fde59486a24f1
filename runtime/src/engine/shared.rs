//! `$shv(name)`: variables shared by every worker of one server, kept
//! across messages (Kamailio keeps them in shared memory). One
//! [`SharedVars`] is handed to every [`super::Engine`] through
//! [`super::EngineConfig::shared_vars`].

use super::value::Val;
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug, Default)]
pub struct SharedVars {
    values: Mutex<HashMap<String, Val>>,
}

impl SharedVars {
    pub fn new() -> Self {
        Self::default()
    }

    /// The value of `name`; an unset `$shv` reads as 0 (as in Kamailio,
    /// where a declared-but-unset shared variable is an integer 0).
    pub fn get(&self, name: &str) -> Val {
        self.lock().get(name).cloned().unwrap_or(Val::Int(0))
    }

    /// Sets `name`; `$null` sets it to 0.
    pub fn set(&self, name: &str, v: Val) {
        let v = if v.is_null() { Val::Int(0) } else { v };
        self.lock().insert(name.to_string(), v);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Val>> {
        // A worker that panicked mid-update leaves a whole value behind
        // (insert is one step), so the map is still consistent.
        self.values.lock().unwrap_or_else(|e| e.into_inner())
    }
}
