//! The interpreter: runs a lowered config (the IR of `sercompat_compiler::ir`)
//! over one SIP message at a time. Sans-IO: it returns what to send.
