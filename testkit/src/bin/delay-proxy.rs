//! `delay-proxy [--events FILE] LISTEN UPSTREAM DELAY_MS`: forwards TCP connections from LISTEN
//! to UPSTREAM with DELAY_MS added in each direction (so a round trip costs twice that), for
//! bench/run.sh. It prints `listening on ADDR`, then after each connection ends a line with the
//! totals so far: `connections=N turns=T client_bytes=C server_bytes=S`. With `--events`, it
//! writes every connection and forwarded chunk to FILE (created or truncated), one line each as
//! it happens (the format is testkit::forward's). It runs until killed.

use std::fs::File;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Duration;

use testkit::forward::{EventLog, Options, Proxy};

const USAGE: &str = "usage: delay-proxy [--events FILE] LISTEN UPSTREAM DELAY_MS";

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let events = match args.iter().position(|a| a == "--events") {
        Some(at) if at + 1 < args.len() => {
            let path = args.remove(at + 1);
            args.remove(at);
            let file = File::create(&path).unwrap_or_else(|e| {
                eprintln!("delay-proxy: cannot create {path}: {e}");
                std::process::exit(73);
            });
            Some(EventLog::new(file))
        }
        Some(_) => {
            eprintln!("{USAGE}");
            std::process::exit(64);
        }
        None => None,
    };
    let [listen, upstream, delay] = args.as_slice() else {
        eprintln!("{USAGE}");
        std::process::exit(64);
    };
    let (Ok(upstream), Ok(delay)) = (upstream.parse::<SocketAddr>(), delay.parse::<u64>()) else {
        eprintln!("delay-proxy: UPSTREAM is ADDR:PORT and DELAY_MS a number of milliseconds");
        std::process::exit(64);
    };
    let options = Options {
        delay: Duration::from_millis(delay),
        events,
        ..Options::default()
    };
    let proxy = Proxy::start(listen, upstream, options).unwrap_or_else(|e| {
        eprintln!("delay-proxy: cannot listen on {listen}: {e}");
        std::process::exit(71);
    });
    println!("listening on {}", proxy.addr());
    let counts = proxy.counts();
    let mut reported = 0;
    loop {
        std::thread::sleep(Duration::from_millis(10));
        let closed = counts.closed.load(Ordering::SeqCst);
        if closed != reported {
            reported = closed;
            println!(
                "connections={closed} turns={} client_bytes={} server_bytes={}",
                counts.turns.load(Ordering::SeqCst),
                counts.client_bytes.load(Ordering::SeqCst),
                counts.server_bytes.load(Ordering::SeqCst)
            );
        }
    }
}
