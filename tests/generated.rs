//! The committed man pages and completion scripts are what the code generates, render and parse
//! cleanly, and the completion scripts offer the configured profile names. No relay, no root.
//!
//! When a test here fails after a change to the command line, regenerate both directories:
//! `cargo run -- generate man man && cargo run -- generate completions completions`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_relayctl");
const REGENERATE: &str =
    "cargo run -- generate man man && cargo run -- generate completions completions";

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// `relayctl generate KIND` into a temporary directory must reproduce `committed` exactly.
fn matches_committed(kind: &str, committed: &str) {
    let tmp = tempfile::tempdir().unwrap();
    run(Command::new(BIN).args(["generate", kind]).arg(tmp.path()));
    let generated = files(tmp.path());
    let committed_files = files(&repo(committed));
    assert_eq!(
        generated.keys().collect::<Vec<_>>(),
        committed_files.keys().collect::<Vec<_>>(),
        "{committed}/ holds other files than `relayctl generate {kind}` writes; run {REGENERATE}"
    );
    for (name, text) in &generated {
        assert!(
            committed_files[name] == *text,
            "{committed}/{name} differs from what the code generates; run {REGENERATE}"
        );
    }
}

#[test]
fn committed_man_pages_are_what_the_code_generates() {
    matches_committed("man", "man");
}

#[test]
fn committed_completions_are_what_the_code_generates() {
    matches_committed("completions", "completions");
}

#[test]
fn man_pages_render_without_warnings() {
    for (name, _) in files(&repo("man")) {
        let path = repo("man").join(&name);
        let out = run(Command::new("man")
            .args(["--warnings", "-l"])
            .arg(&path)
            .env("MANWIDTH", "80")
            .env("LANG", "C.UTF-8"));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.is_empty(), "man --warnings -l {name}:\n{stderr}");
        assert!(out.stdout.len() > 1000, "{name} rendered almost nothing");
    }
}

#[test]
fn completion_scripts_pass_their_shells_syntax_check() {
    for (shell, file) in [
        ("bash", "relayctl.bash"),
        ("zsh", "_relayctl"),
        ("fish", "relayctl.fish"),
    ] {
        run(Command::new(shell)
            .arg("-n")
            .arg(repo("completions").join(file)));
    }
}

/// A config with two profiles, and an environment where `relayctl` on PATH is the binary under
/// test and reads only that config.
fn profile_env(cmd: &mut Command, dir: &Path) {
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        "[profiles.campus]\npreset = \"smarthost\"\nhost = \"localhost\"\nport = 25\ntls = \"none\"\n\n\
         [profiles.uni]\npreset = \"smarthost\"\nhost = \"localhost\"\nport = 25\ntls = \"none\"\n",
    )
    .unwrap();
    let bin_dir = Path::new(BIN).parent().unwrap();
    cmd.env_clear()
        .env(
            "PATH",
            format!("{}:/usr/bin:/bin", bin_dir.to_str().unwrap()),
        )
        .env("HOME", dir)
        .env("RELAYCTL_CONFIG", &config);
}

#[test]
fn bash_completes_profile_names_from_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let script = repo("completions/relayctl.bash");
    // What bash does on TAB: COMP_WORDS/COMP_CWORD set, the registered function called.
    let complete = |line: &str| -> String {
        let words: Vec<&str> = line.split(' ').collect();
        let probe = format!(
            "source {script:?}\nCOMP_WORDS=({words})\nCOMP_CWORD={cword}\nCOMP_LINE={line:?}\nCOMP_POINT=${{#COMP_LINE}}\n\
             $(complete -p relayctl | sed -E 's/.*-F ([^ ]+).*/\\1/') relayctl '{cur}' '{prev}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
            words = words
                .iter()
                .map(|w| format!("{w:?}"))
                .collect::<Vec<_>>()
                .join(" "),
            cword = words.len() - 1,
            cur = words[words.len() - 1],
            prev = words[words.len() - 2],
        );
        let mut cmd = Command::new("bash");
        cmd.args(["--norc", "-c", &probe]);
        profile_env(&mut cmd, dir.path());
        String::from_utf8(run(&mut cmd).stdout).unwrap()
    };
    assert_eq!(complete("relayctl --profile "), "campus\nuni\n");
    assert_eq!(complete("relayctl send --profile u"), "uni\n");
    assert_eq!(
        complete("relayctl --profile = c"),
        "campus\n",
        "--profile=c"
    );
    assert_eq!(complete("relayctl profile show "), "campus\nuni\n");
    assert_eq!(complete("relayctl -v profile set-secret c"), "campus\n");
    assert_eq!(
        complete("relayctl --config = /etc/x.toml profile remove "),
        "campus\nuni\n"
    );
    // Everything else is clap's completion.
    let subcommands = complete("relayctl profile ");
    assert!(subcommands.contains("set-secret"), "{subcommands}");
    assert!(!subcommands.contains("campus"), "{subcommands}");
}

#[test]
fn fish_completes_profile_names_from_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let script = repo("completions/relayctl.fish");
    for (line, want) in [
        ("relayctl --profile ", "campus\nuni\n"),
        ("relayctl profile default ", "campus\nuni\n"),
    ] {
        let mut cmd = Command::new("fish");
        cmd.args([
            "--no-config",
            "-c",
            &format!("source {script:?}; complete -C {line:?}"),
        ]);
        profile_env(&mut cmd, dir.path());
        let out = String::from_utf8(run(&mut cmd).stdout).unwrap();
        // Candidates may carry a tab and a description.
        let names: String = out
            .lines()
            .map(|l| format!("{}\n", l.split('\t').next().unwrap()))
            .collect();
        assert_eq!(names, want, "{line}");
    }
}

#[test]
fn zsh_completion_asks_relayctl_for_profile_names() {
    let script = std::fs::read_to_string(repo("completions/_relayctl")).unwrap();
    assert!(script.contains("_relayctl_profiles() {"));
    assert!(script.contains(":NAME:_relayctl_profiles"), "--profile");
    assert!(
        script.contains(":name -- Profile name:_relayctl_profiles"),
        "profile show NAME"
    );
    // The helper that the function runs prints the names, one per line.
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(BIN);
    cmd.args(["generate", "profile-names"]);
    profile_env(&mut cmd, dir.path());
    assert_eq!(run(&mut cmd).stdout, b"campus\nuni\n");
}
