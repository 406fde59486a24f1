//! `sercompat run`: serve SIP with a config as it is. The runtime refuses
//! to start when the config calls anything it does not implement, listing
//! every such call with its span: a missing function is never a silent
//! no-op.

use clap::Args;
use codespan_reporting::term::termcolor::{ColorChoice, StandardStream};
use sercompat::engine::{self, Engine, EngineConfig};
use sercompat::net::server;
use sercompat::net::sockets::{resolve, SystemResolver};
use sercompat::net::{Server, ServerConfig};
use sercompat::serve;
use sercompat_compiler::ir::readiness;
use sercompat_grammar::{diagnostic::codes, render, Diagnostic, Era, Options};
use std::path::PathBuf;

#[derive(Args)]
pub struct RunArgs {
    /// The config file (also accepted as `-f FILE`, as Kamailio takes it).
    #[arg(value_name = "FILE", required_unless_present_any = ["config", "version"])]
    file: Option<PathBuf>,
    #[arg(short = 'f', value_name = "FILE", conflicts_with = "file")]
    config: Option<PathBuf>,
    /// Define NAME (optionally with VALUE) before reading, like `kamailio -A`.
    #[arg(short = 'A', value_name = "NAME[=VALUE]")]
    defines: Vec<String>,
    /// The era to read the file in (default: the mode header, else detected).
    #[arg(long, value_name = "ERA", value_parser = super::check::parse_era)]
    dialect: Option<Era>,
    // Kamailio's and SER's own flags, so an existing unit file or init
    // script keeps working.
    /// Listen on ADDRESS too (`[proto:]addr[:port]`), like `kamailio -l`.
    #[arg(short = 'l', value_name = "ADDRESS")]
    listen: Vec<String>,
    /// Default port (`port=`), like `kamailio -p`.
    #[arg(short = 'p', value_name = "PORT")]
    port: Option<u16>,
    /// Receive workers per UDP socket (`children=`), like `kamailio -n`.
    #[arg(short = 'n', value_name = "N")]
    children: Option<usize>,
    /// Check the config (and that the runtime can run it), then exit, like `kamailio -c`.
    #[arg(short = 'c')]
    check_only: bool,
    /// Write the process id to FILE, like `kamailio -P`.
    #[arg(short = 'P', value_name = "FILE")]
    pid_file: Option<PathBuf>,
    /// Log to standard error (`-E`): the default; accepted for compatibility.
    #[arg(short = 'E')]
    log_stderr: bool,
    /// Stay in the foreground (`-D`, `-DD`): the default; accepted for compatibility.
    #[arg(short = 'D', action = clap::ArgAction::Count)]
    foreground: u8,
    /// Raise the log level by one per `-d`, above the config's `debug=`.
    #[arg(short = 'd', action = clap::ArgAction::Count)]
    debug: u8,
    /// Shared memory size in MB (`-m`): accepted; memory is not preallocated.
    #[arg(short = 'm', value_name = "MB")]
    shm_mb: Option<u64>,
    /// Private memory size in MB (`-M`): accepted; memory is not preallocated.
    #[arg(short = 'M', value_name = "MB")]
    pkg_mb: Option<u64>,
    /// Module directory (`-L`): accepted; the runtime's modules are built in.
    #[arg(short = 'L', value_name = "DIR")]
    module_dir: Option<PathBuf>,
    /// Print the version and exit, like `kamailio -V`.
    #[arg(short = 'V')]
    version: bool,
    /// Working directory (`-w`): accepted for compatibility.
    #[arg(short = 'w', value_name = "DIR")]
    work_dir: Option<PathBuf>,
}

pub fn run(args: RunArgs) -> i32 {
    if args.version {
        println!(
            "sercompat {} (runs SER / OpenSER / Kamailio configs)",
            env!("CARGO_PKG_VERSION")
        );
        return 0;
    }
    let Some(path) = args.file.clone().or(args.config.clone()) else {
        return 2;
    };
    let opts = Options {
        dialect: args.dialect,
        defines: args.defines.clone(),
        ..Options::default()
    };
    let parsed = match sercompat_grammar::parse_file(&path, &opts) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error[{}]: cannot read {}: {e}", codes::IO, path.display());
            return 2;
        }
    };
    let mut stderr =
        StandardStream::stderr(if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            ColorChoice::Auto
        } else {
            ColorChoice::Never
        });
    let mut diags: Vec<Diagnostic> = parsed
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .cloned()
        .collect();
    if !diags.is_empty() {
        return report(&parsed, &diags, &mut stderr);
    }
    let (program, lowering) = sercompat_compiler::ir::lower(&parsed);
    diags.extend(lowering.into_iter().filter(Diagnostic::is_error));
    // Kamailio itself refuses to start on a function whose module is not
    // loaded ("unknown command, missing loadmodule?"), an unknown module
    // parameter or pseudo-variable, ...; so does the runtime, which has
    // every module built in and would otherwise run the config.
    let routes = sercompat_compiler::routes::RouteTable::build(&parsed.config, parsed.era.era);
    diags.extend(
        sercompat_compiler::lints::run(&sercompat_compiler::lints::LintCtx {
            parsed: &parsed,
            routes: &routes,
            program: &program,
        })
        .into_iter()
        .filter(sercompat_compiler::lints::refused_at_start),
    );
    let checked = Engine::check(&program);
    diags.extend(checked.errors);
    if !diags.is_empty() {
        let n = diags
            .iter()
            .filter(|d| d.code == readiness::NOT_IMPLEMENTED || d.code == engine::UNSUPPORTED)
            .count();
        if n > 0 {
            diags.push(Diagnostic::error(
                readiness::NOT_IMPLEMENTED,
                format!(
                    "{}: not starting: {n} thing{} the runtime does not implement",
                    path.display(),
                    if n == 1 { "" } else { "s" }
                ),
            ));
        }
        return report(&parsed, &diags, &mut stderr);
    }
    // Accepted but not honoured: said once, at start-up.
    if report(&parsed, &checked.warnings, &mut stderr) == 2 {
        return 2;
    }
    let (mut sockets, mut children) = match serve::socket_config(&parsed) {
        Ok(s) => s,
        Err(d) => return report(&parsed, &d, &mut stderr),
    };
    for l in &args.listen {
        match sercompat::net::listen::parse(l) {
            Ok(spec) => sockets.listen.push(spec),
            Err(e) => {
                eprintln!("error[{}]: -l {l}: {e}", serve::BAD_SOCKET);
                return 2;
            }
        }
    }
    if args.port.is_some() {
        sockets.port = args.port;
    }
    let core = match serve::core_params(&parsed) {
        Ok(c) => c,
        Err(d) => return report(&parsed, &d, &mut stderr),
    };
    if let Some(n) = args.children {
        children = n.max(1);
    }
    let location = match engine::registrar_from_params(&program) {
        Ok(l) => l,
        Err(d) => return report(&parsed, &d, &mut stderr),
    };
    if args.check_only {
        eprintln!(
            "{}: config ok, and the runtime implements everything it calls",
            path.display()
        );
        return 0;
    }
    if let Some(pid) = &args.pid_file {
        if let Err(e) = std::fs::write(pid, format!("{}\n", std::process::id())) {
            eprintln!("error[{}]: cannot write {}: {e}", codes::IO, pid.display());
            return 2;
        }
    }
    let debug_flags = args.debug;
    let _ = (
        args.log_stderr,
        args.foreground,
        args.shm_mb,
        args.pkg_mb,
        &args.module_dir,
        &args.work_dir,
    );
    let listen_names = serve::listen_names(&sockets, &SystemResolver);
    let resolved = match resolve(&sockets, &SystemResolver) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error[{}]: {e}", serve::BAD_SOCKET);
            return 1;
        }
    };
    for (spec, why) in &resolved.skipped {
        eprintln!(
            "warning[{}]: `{spec}` is not served: {why}",
            serve::BAD_SOCKET
        );
    }
    one_malloc_arena();
    // tokio serves TCP, the signals and the usrloc timer; UDP has its
    // receiver threads and tm its timer thread. One child: a current-thread
    // runtime; more: one tokio worker per child.
    let rt = if children == 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        server::runtime(children)
    };
    let rt = match rt {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error[{}]: cannot start the runtime: {e}", codes::IO);
            return 2;
        }
    };
    let program = std::sync::Arc::new(program);
    rt.block_on(async move {
        // Bind first: `myself` is what was bound.
        let bound: Vec<std::net::SocketAddr> = resolved.sockets.iter().map(|s| s.addr).collect();
        let advertised: Vec<(String, u16)> = resolved
            .sockets
            .iter()
            .filter_map(|s| s.advertise.clone())
            .collect();
        let mut aliases: Vec<(String, Option<u16>)> = resolved
            .aliases
            .iter()
            .map(|a| (a.host.clone(), a.port))
            .collect();
        aliases.extend(listen_names);
        // With one advertised socket, our Via carries its name (Kamailio
        // writes each socket's own; the engine has one Via address today).
        let via_address = match advertised.as_slice() {
            [one] if resolved.sockets.len() == 1 => Some(one.clone()),
            _ => None,
        };
        let sockets = resolved
            .sockets
            .iter()
            .map(|s| {
                let proto = match s.transport {
                    sercompat::net::Transport::Udp => sercompat::engine::Proto::Udp,
                    sercompat::net::Transport::Tcp => sercompat::engine::Proto::Tcp,
                };
                (proto, s.addr)
            })
            .collect();
        let mut config = EngineConfig {
            myself: serve::myself(&bound, &advertised, &aliases),
            sockets,
            server_header: core.server_header.clone(),
            via_address,
            registrar: location.registrar,
            ..EngineConfig::default()
        };
        let max_level = serve::apply_settings(&program, &mut config, debug_flags);
        if program.modules.iter().any(|m| m == "tm") {
            // One table per worker: a transaction's shard follows its
            // Call-ID, so workers rarely wait for each other.
            config.tm = Some(std::sync::Arc::new(engine::Transactions::new(
                serve::tm_config(&program),
                children,
            )));
        }
        let transactions = config.tm.clone();
        config.logger = std::sync::Arc::new(engine::MaxLevel {
            max: max_level,
            inner: engine::StderrLogger,
        });
        let engine = match Engine::new(program, config) {
            Ok(e) => e,
            Err(refused) => return report(&parsed, &refused.diagnostics, &mut stderr),
        };
        let sweeper = tokio::spawn(serve::expire_contacts(
            engine.config().registrar.clone(),
            engine.config().clock.clone(),
            location.timer_interval,
            engine.config().logger.clone(),
        ));
        let handler =
            std::sync::Arc::new(serve::EngineHandler::new(engine, children, bound.clone()));
        let mut server_config = ServerConfig::new(resolved.sockets.clone());
        server_config.udp_workers = children;
        server_config.mhomed = resolved.mhomed;
        server_config.stream.max_connections = core.tcp_max_connections;
        let server = match Server::bind(server_config, handler.clone()).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error[{}]: {e}", serve::BAD_SOCKET);
                return 1;
            }
        };
        for l in server.local_sockets() {
            eprintln!("listening on {}:{}", l.transport, l.addr);
        }
        let server = std::sync::Arc::new(server);
        if let Some(tms) = transactions {
            let (handler, server) = (handler.clone(), server.clone());
            let timers = std::thread::Builder::new()
                .name("tm-timers".into())
                .spawn(move || serve::run_timers(tms, handler, server));
            if let Err(e) = timers {
                eprintln!("error[{}]: cannot start the timer thread: {e}", codes::IO);
                return 2;
            }
        }
        // Ctrl-C or SIGTERM (systemd, init scripts) stop it cleanly.
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("error[{}]: cannot watch SIGTERM: {e}", codes::IO);
                    return 2;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        sweeper.abort();
        server.shutdown();
        eprintln!("stopped");
        0
    })
}

fn report(
    parsed: &sercompat_grammar::Parsed,
    diags: &[Diagnostic],
    out: &mut StandardStream,
) -> i32 {
    for d in diags {
        if render::human(&parsed.db, d, out).is_err() {
            return 2;
        }
    }
    1
}

/// Makes every thread allocate from glibc's main arena. A UDP receiver
/// thread would otherwise get an arena of its own, which glibc grows one
/// `mprotect` call per 4 KiB page (no top pad outside the main arena):
/// 2.5 calls per call in the stateful benchmark while its transactions
/// build up. Most allocations never reach the arena's lock anyway: the
/// per-thread cache serves them.
fn one_malloc_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a malloc parameter; called before any
    // thread of ours starts.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}
