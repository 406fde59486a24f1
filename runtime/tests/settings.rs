//! What `sercompat run` does with a config's settings: modules and module
//! parameters it does not implement are refused (their effect would be
//! silently missing), core parameters it does not read are accepted with
//! a warning (R0005), and the ones it reads take effect.

mod engine_support;

use engine_support::parsed_in;
use sercompat::engine::{level, Engine, EngineConfig, MemoryLogger};
use sercompat::serve::apply_settings;
use sercompat_compiler::ir::readiness::{INTERFACE_NOT_SERVED, NOT_IMPLEMENTED, SETTING_IGNORED};
use sercompat_compiler::ir::{lower, Program};
use sercompat_grammar::Era;
use std::sync::Arc;

/// Lowered without asserting on lowering diagnostics: some configs here
/// are refused later, by the engine.
fn program(src: &str) -> Arc<Program> {
    Arc::new(lower(&parsed_in(src, None)).0)
}

fn engine(src: &str) -> Result<Engine, Vec<(String, String)>> {
    let config = EngineConfig {
        logger: Arc::new(MemoryLogger::new()),
        ..EngineConfig::default()
    };
    Engine::new(program(src), config).map_err(|r| {
        r.diagnostics
            .into_iter()
            .map(|d| (d.code.to_string(), d.message))
            .collect()
    })
}

#[test]
fn an_unimplemented_module_is_refused_even_when_nothing_calls_it() {
    let errs = engine(
        "#!KAMAILIO\nloadmodule \"sl.so\"\nloadmodule \"nathelper.so\"\nrequest_route { drop; }\n",
    )
    .unwrap_err();
    assert_eq!(
        errs,
        [(
            NOT_IMPLEMENTED.to_string(),
            "module `nathelper` is not implemented by the sercompat runtime yet".to_string()
        )]
    );
}

#[test]
fn management_interfaces_and_unhonoured_acc_settings_are_warnings() {
    let e = engine(
        "#!KAMAILIO\nloadmodule \"sl.so\"\nloadmodule \"mi_fifo.so\"\nloadmodule \"acc.so\"\n\
         modparam(\"mi_fifo\", \"fifo_name\", \"/tmp/kamailio_fifo\")\n\
         modparam(\"acc\", \"early_media\", 1)\n\
         modparam(\"acc\", \"detect_direction\", 1)\n\
         modparam(\"acc\", \"log_flag\", 1)\n\
         request_route { drop; }\n",
    )
    .unwrap_or_else(|e| panic!("{e:?}"));
    let warned: Vec<(&str, &str)> = e
        .warnings()
        .iter()
        .map(|d| (d.code, d.message.as_str()))
        .collect();
    assert_eq!(
        warned,
        [
            (
                INTERFACE_NOT_SERVED,
                "module `mi_fifo` is a management interface the sercompat runtime does not serve"
            ),
            (
                SETTING_IGNORED,
                "acc parameter `detect_direction` is not honoured by the sercompat runtime: records keep From and To as in the request, whichever way it goes"
            ),
        ]
    );
    // Database accounting needs a database the runtime does not have.
    let errs = engine(
        "#!KAMAILIO\nloadmodule \"acc.so\"\nmodparam(\"acc\", \"db_flag\", 1)\nrequest_route { drop; }\n",
    )
    .unwrap_err();
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].1.contains("`db_flag`"), "{errs:?}");
    // A flag beyond 31 cannot be set.
    let errs = engine(
        "#!KAMAILIO\nloadmodule \"acc.so\"\nmodparam(\"acc\", \"log_flag\", 40)\nrequest_route { drop; }\n",
    )
    .unwrap_err();
    assert_eq!(
        errs,
        [(
            "R0003".to_string(),
            "acc parameter `log_flag`: a flag is a number from 0 to 31".to_string()
        )]
    );
}

#[test]
fn an_unimplemented_module_parameter_is_refused() {
    let errs = engine(
        "#!KAMAILIO\nloadmodule \"sl.so\"\nloadmodule \"maxfwd.so\"\n\
         modparam(\"maxfwd\", \"max_limit\", 16)\n\
         modparam(\"sl\", \"default_code\", 404)\n\
         request_route { drop; }\n",
    )
    .unwrap_err();
    assert_eq!(
        errs,
        [(
            NOT_IMPLEMENTED.to_string(),
            "parameter `default_code` of module `sl` is not implemented by the sercompat runtime yet"
                .to_string()
        )]
    );
}

#[test]
fn core_parameters_not_read_are_warned_about_and_the_rest_accepted() {
    let e = engine("#!KAMAILIO\ndebug=3\nchildren=2\ntcp_connection_lifetime=3605\ndns=no\nrequest_route { drop; }\n")
        .unwrap();
    let warned: Vec<(&str, &str)> = e
        .warnings()
        .iter()
        .map(|d| (d.code, d.message.as_str()))
        .collect();
    assert_eq!(
        warned,
        [
            (
                SETTING_IGNORED,
                "core parameter `tcp_connection_lifetime` has no effect under `sercompat run`"
            ),
            (
                SETTING_IGNORED,
                "core parameter `dns` has no effect under `sercompat run`"
            ),
        ]
    );
}

#[test]
fn settings_that_are_read_take_effect() {
    let prog = program(
        "#!KAMAILIO\ndebug=2\nmax_while_loops=7\nloadmodule \"maxfwd.so\"\n\
         modparam(\"maxfwd\", \"max_limit\", 16)\nrequest_route { drop; }\n",
    );
    let mut config = EngineConfig::default();
    assert_eq!(apply_settings(&prog, &mut config, 0), level::L_INFO);
    assert_eq!(config.max_while_loops, 7);
    assert_eq!(config.maxfwd_limit, 16);
    // Each -d raises the level by one.
    assert_eq!(apply_settings(&prog, &mut config, 1), level::L_DBG);
    // No debug=: Kamailio's default, warnings.
    let prog = program("#!KAMAILIO\nrequest_route { drop; }\n");
    assert_eq!(apply_settings(&prog, &mut config, 0), level::L_WARN);
}

#[test]
fn debug_levels_of_old_eras_are_renumbered() {
    // SER 0.8 numbered WARN 1, INFO 3, DBG 4.
    for (n, want) in [(1, level::L_WARN), (3, level::L_INFO), (4, level::L_DBG)] {
        let src = format!("debug={n}\nroute {{ drop; }}\n");
        let prog = lower(&parsed_in(&src, Some(Era::Ser08))).0;
        assert_eq!(
            apply_settings(&prog, &mut EngineConfig::default(), 0),
            want,
            "debug={n}"
        );
    }
}
