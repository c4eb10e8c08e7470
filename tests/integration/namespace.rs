//! Running real programs that call the hard-coded `/usr/sbin/sendmail` against the relayctl binary
//! under test, without touching the host: each program runs in private mount and PID namespaces
//! where bind mounts put relayctl (and its config, a crontab, ...) where the program looks.
//!
//! The PID namespace makes cleanup complete: its first process (a small `sh`) waits until every
//! process the program left behind has finished (a caller may leave its sendmail running in the
//! background; its delivery must not be cut short), and killing it — [`ChildGuard`] does that on drop — makes the kernel kill
//! everything else in the namespace, including processes that left the process group.

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::Run;

/// `/usr/sbin/sendmail` inside the namespace.
pub const SENDMAIL: &str = "/usr/sbin/sendmail";

/// Mounts the namespace's init shell performs, in order, before it runs the program. Arguments:
/// `overlay TARGET UPPER WORK`, `bind SOURCE TARGET`, `tmpfs TARGET`, then `--`, the program and
/// its arguments. Paths are positional parameters, never interpolated into the script.
const INIT: &str = r#"set -eu
while [ "$1" != -- ]; do
    case $1 in
        overlay) mount -t overlay overlay -o "lowerdir=$2,upperdir=$3,workdir=$4" "$2"; shift 4 ;;
        bind) mount --bind "$2" "$3"; shift 3 ;;
        tmpfs) mount -t tmpfs -o mode=0755 tmpfs "$2"; shift 2 ;;
        *) echo "namespace: unknown operation $1" >&2; exit 125 ;;
    esac
done
shift
set +e
"$@"
rc=$?
# Wait for whatever the program left running (this shell is PID 1: it inherits the orphans and
# reaps them while it runs `sleep`).
while :; do
    others=0
    for p in /proc/[0-9]*; do
        [ "${p#/proc/}" = 1 ] || others=$((others + 1))
    done
    [ "$others" -eq 0 ] && break
    sleep 0.05
done
exit $rc
"#;

enum Op {
    Overlay {
        target: PathBuf,
        upper: PathBuf,
        work: PathBuf,
    },
    Bind {
        source: PathBuf,
        target: PathBuf,
    },
    Tmpfs {
        target: PathBuf,
    },
}

/// The mounts of one private namespace, applied in the order they were added.
#[derive(Default)]
pub struct Namespace {
    ops: Vec<Op>,
}

impl Namespace {
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes `target` (a directory) writable inside the namespace only: an overlay whose upper
    /// layer lives in `scratch` (created here). Files created there before the program starts,
    /// or mount points [`bind`](Self::bind) needs under `target`, appear in the namespace only.
    pub fn overlay(mut self, target: impl AsRef<Path>, scratch: impl AsRef<Path>) -> Self {
        let (target, scratch) = (target.as_ref(), scratch.as_ref());
        let (upper, work) = (scratch.join("upper"), scratch.join("work"));
        for p in [target, &upper, &work] {
            let s = p.to_str().expect("UTF-8 path");
            assert!(
                !s.contains([',', ':', '\\']),
                "overlay paths must not hold , : or \\ (mount options): {s}"
            );
        }
        std::fs::create_dir_all(&upper).expect("create overlay upper dir");
        std::fs::create_dir_all(&work).expect("create overlay work dir");
        self.ops.push(Op::Overlay {
            target: target.into(),
            upper: upper.clone(),
            work,
        });
        self
    }

    /// Bind-mounts `source` over `target` (a file over a file, a directory over a directory). A
    /// missing `target` is only allowed under an earlier [`overlay`](Self::overlay): its mount
    /// point is then created in the overlay's upper layer, never on the host.
    pub fn bind(mut self, source: impl AsRef<Path>, target: impl AsRef<Path>) -> Self {
        let (source, target) = (source.as_ref(), target.as_ref());
        let meta = std::fs::metadata(source)
            .unwrap_or_else(|e| panic!("bind source {}: {e}", source.display()));
        if let Ok(t) = std::fs::metadata(target) {
            assert_eq!(
                t.is_dir(),
                meta.is_dir(),
                "bind {} over {}: a directory must go over a directory, a file over a file",
                source.display(),
                target.display()
            );
        } else {
            let upper = self
                .ops
                .iter()
                .rev()
                .find_map(|op| match op {
                    Op::Overlay {
                        target: t, upper, ..
                    } => target.strip_prefix(t).ok().map(|rel| upper.join(rel)),
                    _ => None,
                })
                .unwrap_or_else(|| {
                    panic!(
                        "bind target {} does not exist; add an overlay of a parent directory \
                         so that its mount point is created in the namespace only",
                        target.display()
                    )
                });
            if meta.is_dir() {
                std::fs::create_dir_all(&upper).expect("create mount point in overlay");
            } else {
                std::fs::create_dir_all(upper.parent().unwrap()).expect("create parent");
                std::fs::write(&upper, b"").expect("create mount point in overlay");
            }
        }
        self.ops.push(Op::Bind {
            source: source.into(),
            target: target.into(),
        });
        self
    }

    /// An empty tmpfs over the directory `target`.
    pub fn tmpfs(mut self, target: impl AsRef<Path>) -> Self {
        assert!(target.as_ref().is_dir(), "{}", target.as_ref().display());
        self.ops.push(Op::Tmpfs {
            target: target.as_ref().into(),
        });
        self
    }

    /// The relayctl binary under test as `/usr/sbin/sendmail`. relayctl picks its sendmail mode
    /// from argv[0]'s file name, which callers set to `/usr/sbin/sendmail`.
    pub fn sendmail_is_relayctl(self) -> Self {
        self.bind(env!("CARGO_BIN_EXE_relayctl"), SENDMAIL)
    }

    /// `program args` inside the namespace, with an empty environment apart from `PATH` (add
    /// what the program needs), in its own process group. Spawn it with [`ChildGuard::spawn`].
    pub fn command(&self, program: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new("unshare");
        cmd.args([
            "--mount",
            "--propagation",
            "private",
            "--pid",
            "--fork",
            "--kill-child",
            "--mount-proc",
            "sh",
            "-c",
            INIT,
            "sh",
        ]);
        for op in &self.ops {
            match op {
                Op::Overlay {
                    target,
                    upper,
                    work,
                } => {
                    cmd.arg("overlay").arg(target).arg(upper).arg(work);
                }
                Op::Bind { source, target } => {
                    cmd.arg("bind").arg(source).arg(target);
                }
                Op::Tmpfs { target } => {
                    cmd.arg("tmpfs").arg(target);
                }
            }
        }
        cmd.arg("--").arg(program).args(args);
        cmd.env_clear()
            .env(
                "PATH",
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            )
            .process_group(0);
        cmd
    }
}

/// A spawned namespace; dropping it kills its process group (and with it the namespace's PID 1,
/// whose death takes every other process in the namespace along).
pub struct ChildGuard {
    child: Child,
    reaped: bool,
}

impl ChildGuard {
    pub fn spawn(mut cmd: Command) -> Self {
        let child = cmd.spawn().expect("spawn unshare");
        ChildGuard {
            child,
            reaped: false,
        }
    }

    /// The exit code if the namespace has finished (the program and everything it left behind).
    pub fn try_wait(&mut self) -> Option<i32> {
        let status = self.child.try_wait().expect("try_wait")?;
        self.reaped = true;
        Some(status.code().unwrap_or(-1))
    }

    pub fn child(&mut self) -> &mut Child {
        &mut self.child
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if self.reaped {
            // unshare has exited, which it only does after the namespace's PID 1 did; the
            // namespace is empty and the id may already belong to someone else.
            return;
        }
        let pgid = self.child.id();
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{pgid}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `cmd` (from [`Namespace::command`]) with `stdin`, waiting for the program and everything
/// it started, up to `timeout`; on timeout the namespace is killed and the test fails.
pub fn run(cmd: Command, stdin: &[u8], timeout: Duration) -> Run {
    let mut cmd = cmd;
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut guard = ChildGuard::spawn(cmd);
    let mut pipe = guard.child().stdin.take().unwrap();
    let input = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let reader = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let stdout = reader(Box::new(guard.child().stdout.take().unwrap()));
    let stderr = reader(Box::new(guard.child().stderr.take().unwrap()));
    let deadline = Instant::now() + timeout;
    let code = loop {
        if let Some(code) = guard.try_wait() {
            break code;
        }
        if Instant::now() >= deadline {
            drop(guard);
            panic!(
                "still running after {timeout:?}, killed; stderr so far:\n{}",
                stderr.join().unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    writer.join().unwrap();
    Run {
        code,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// A namespace with throwaway overlays over /usr, /etc and /var (scratch in `work`), an empty
/// /run, and a policy-rc.d that keeps maintainer scripts from starting or stopping services: a
/// copy of this machine to install and run things in (tests/packaging.rs, proofs.rs).
pub fn disposable_system(work: &Path) -> Namespace {
    use std::os::unix::fs::PermissionsExt;
    let policy = work.join("usr/upper/sbin/policy-rc.d");
    std::fs::create_dir_all(policy.parent().unwrap()).unwrap();
    std::fs::write(
        &policy,
        "#!/bin/sh\n# tests/packaging.rs: no service actions\nexit 101\n",
    )
    .unwrap();
    std::fs::set_permissions(&policy, std::fs::Permissions::from_mode(0o755)).unwrap();
    Namespace::new()
        .overlay("/usr", work.join("usr"))
        .overlay("/etc", work.join("etc"))
        .overlay("/var", work.join("var"))
        .tmpfs("/run")
}
