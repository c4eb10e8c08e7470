//! `relayctl generate` (hidden): the man pages and shell completion scripts that the packages
//! install, generated from the clap definitions in [`crate::cli`] plus hand-written sections
//! (`*.roff` beside this file), and the profile names the completion scripts offer.
//!
//! The committed `man/` and `completions/` directories are this module's output; the test
//! `tests/generated.rs` fails when they differ. Regenerate them with
//! `cargo run -- generate man man && cargo run -- generate completions completions`.
//!
//! Profile names are completed at run time: bash through a wrapper around clap's completion
//! function, zsh and fish by pointing the profile arguments at `relayctl generate profile-names`
//! (plus, for fish, lines for the cases its generated script leaves out); elvish and PowerShell
//! complete subcommands and options only.

use std::fs;
use std::io::Write;
use std::path::Path;

use clap::{CommandFactory, ValueHint};
use clap_complete::Shell;
use clap_mangen::Man;

use crate::cli::{Cli, GenerateCommand};
use crate::error::{Error, Result};
use crate::options::Options;

/// The subcommands of `relayctl profile` whose positional argument is a profile name.
const PROFILE_NAME_COMMANDS: [&str; 4] = ["show", "remove", "default", "set-secret"];

/// Runs `relayctl generate ...`.
pub fn execute(options: &Options, command: GenerateCommand) -> Result<()> {
    match command {
        GenerateCommand::Man { dir } => write_files(&dir, &man_pages()),
        GenerateCommand::Completions { dir } => write_files(&dir, &completion_scripts()),
        GenerateCommand::ProfileNames => profile_names(options),
    }
}

/// Prints the configured profile names, one per line. A configuration that cannot be read
/// prints nothing: a completion script must not spill errors onto the command line.
fn profile_names(options: &Options) -> Result<()> {
    let Ok(config) = options.location.load() else {
        return Ok(());
    };
    let mut out = std::io::stdout().lock();
    for name in config.profiles.keys() {
        writeln!(out, "{name}").map_err(Error::Stdin)?;
    }
    Ok(())
}

fn write_files(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<()> {
    let io = |context, path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io {
            context,
            path,
            source,
        }
    };
    fs::create_dir_all(dir).map_err(io("cannot create", dir))?;
    for (name, text) in files {
        let path = dir.join(name);
        fs::write(&path, text).map_err(io("cannot write", &path))?;
    }
    Ok(())
}

/// The man pages, as (file name, roff source): `relayctl.1` (every subcommand, from the clap
/// definitions), `relayctl.toml.5` (the configuration file) and `relayctl-sendmail.8` (the
/// sendmail interface), the last two hand-written.
pub fn man_pages() -> Vec<(String, Vec<u8>)> {
    vec![
        ("relayctl.1".into(), relayctl_1()),
        (
            "relayctl.toml.5".into(),
            hand_written("RELAYCTL.TOML", "5", include_str!("relayctl.toml.5.roff")),
        ),
        (
            "relayctl-sendmail.8".into(),
            hand_written(
                "RELAYCTL-SENDMAIL",
                "8",
                include_str!("relayctl-sendmail.8.roff"),
            ),
        ),
    ]
}

/// `.TH` fields after the title and section: no date (the output must not depend on when it
/// was generated), the source with relayctl's version, the manual's name.
fn title_line(title: &str, section: &str) -> String {
    format!(
        ".TH {title} {section} \"\" \"relayctl {}\" \"relayctl manual\"\n",
        env!("CARGO_PKG_VERSION")
    )
}

fn hand_written(title: &str, section: &str, body: &str) -> Vec<u8> {
    let mut page = title_line(title, section);
    page.push_str(body);
    page.into_bytes()
}

/// `relayctl.1`: clap_mangen's name, synopsis, description and global options, then one
/// subsection per (sub)subcommand with its synopsis, description and options, then the
/// hand-written sections (files, environment, exit status, examples).
fn relayctl_1() -> Vec<u8> {
    let cli = Cli::command();
    let man = Man::new(cli.clone());
    let mut page = title_line("RELAYCTL", "1");
    page.push_str(ROFF_PREAMBLE);
    page.push_str(&section(&man, Man::render_name_section));
    page.push_str(&section(&man, Man::render_synopsis_section));
    page.push_str(&section(&man, Man::render_description_section));
    page.push_str(include_str!("relayctl.1.description.roff"));
    page.push_str(&section(&man, Man::render_options_section).replacen(
        ".SH OPTIONS",
        ".SH \"GLOBAL OPTIONS\"",
        1,
    ));
    page.push_str(".SH COMMANDS\n");
    for sub in cli.get_subcommands().filter(|c| !c.is_hide_set()) {
        command_sections(&mut page, "relayctl", sub);
    }
    page.push_str(include_str!("relayctl.1.roff"));
    page.into_bytes()
}

/// What the `roff` crate puts before every rendered piece: the definition of `\*(Aq`. The page
/// needs it once.
const ROFF_PREAMBLE: &str = ".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n";

type Render = fn(&Man, &mut dyn Write) -> std::io::Result<()>;

/// One section rendered by clap_mangen, without the preamble.
fn section(man: &Man, render: Render) -> String {
    let mut text = Vec::new();
    render(man, &mut text).expect("render into memory");
    let text = String::from_utf8(text).expect("roff output is UTF-8");
    text.strip_prefix(ROFF_PREAMBLE)
        .expect("clap_mangen's output starts with roff's preamble")
        .to_string()
}

/// One `.SS` per command that runs something (commands with subcommands only group them).
fn command_sections(page: &mut String, parent: &str, cmd: &clap::Command) {
    let path = format!("{parent} {}", cmd.get_name());
    if cmd.has_subcommands() {
        for sub in cmd.get_subcommands().filter(|c| !c.is_hide_set()) {
            command_sections(page, &path, sub);
        }
        return;
    }
    // Built on its own, the command has neither the global options (listed once above) nor
    // --help.
    let man = Man::new(cmd.clone().bin_name(&path).disable_help_flag(true));
    page.push_str(&format!(".SS \"{path}\"\n"));
    let parts: [Render; 3] = [
        Man::render_synopsis_section,
        Man::render_description_section,
        Man::render_options_section,
    ];
    for (i, render) in parts.into_iter().enumerate() {
        let text = section(&man, render);
        // Drop the section heading (.SH SYNOPSIS ...): here each part is a paragraph.
        let body = text.split_once('\n').map_or("", |(_, rest)| rest);
        if body.is_empty() {
            continue;
        }
        if i > 0 {
            page.push_str(".PP\n");
        }
        page.push_str(body);
    }
}

/// The completion scripts, as (file name, script), named the way each shell looks them up:
/// `relayctl.bash` (bash-completion installs it as `relayctl`), `_relayctl` (zsh),
/// `relayctl.fish`, `relayctl.elv`, `_relayctl.ps1`.
pub fn completion_scripts() -> Vec<(String, Vec<u8>)> {
    // Without the hidden `generate` (clap_complete's fish script would offer it).
    let full = Cli::command();
    let visible: Vec<clap::Command> = full
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .cloned()
        .collect();
    let mut cmd = clap::Command::new("relayctl")
        .version(env!("CARGO_PKG_VERSION"))
        .propagate_version(true)
        .args(full.get_arguments().cloned())
        .subcommands(visible);
    // The profile arguments get a value hint that zsh and fish complete with a command; that
    // command is then replaced with relayctl's own list of profile names.
    cmd = cmd.mut_arg("profile", |a| a.value_hint(ValueHint::Username));
    cmd = cmd.mut_subcommand("profile", |mut p| {
        for sub in PROFILE_NAME_COMMANDS {
            p = p.mut_subcommand(sub, |s| {
                s.mut_arg("name", |a| a.value_hint(ValueHint::Username))
            });
        }
        p
    });
    [
        Shell::Bash,
        Shell::Zsh,
        Shell::Fish,
        Shell::Elvish,
        Shell::PowerShell,
    ]
    .into_iter()
    .map(|shell| {
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut cmd, "relayctl", &mut script);
        let script = String::from_utf8(script).expect("completion scripts are UTF-8");
        let (name, script) = match shell {
            Shell::Bash => ("relayctl.bash", format!("{script}{BASH_PROFILES}")),
            Shell::Zsh => ("_relayctl", zsh_profiles(&script)),
            Shell::Fish => ("relayctl.fish", fish_profiles(&script)),
            Shell::Elvish => ("relayctl.elv", script),
            _ => ("_relayctl.ps1", script),
        };
        (name.to_string(), script.into_bytes())
    })
    .collect()
}

/// Replaces every occurrence of `from` (there must be one per profile argument) with `to`.
fn replace_hint(script: &str, from: &str, to: &str) -> String {
    let n = script.matches(from).count();
    assert!(
        n > PROFILE_NAME_COMMANDS.len(),
        "clap_complete's output changed: {from:?} occurs {n} times"
    );
    script.replace(from, to)
}

fn zsh_profiles(script: &str) -> String {
    let script = replace_hint(script, ":_users", ":_relayctl_profiles");
    let tail = "if [ \"$funcstack[1]\" = \"_relayctl\" ]; then";
    let (head, rest) = script
        .split_once(tail)
        .expect("clap_complete's zsh script ends by calling or registering _relayctl");
    format!("{head}{ZSH_PROFILES}{tail}{rest}")
}

fn fish_profiles(script: &str) -> String {
    let script = replace_hint(
        script,
        "(__fish_complete_users)",
        "(relayctl generate profile-names 2>/dev/null)",
    );
    format!("{script}{FISH_PROFILES}")
}

/// clap_complete's fish script completes neither positional values nor an option's value
/// before a subcommand (`relayctl --profile <TAB>`); these lines add both for profile names.
const FISH_PROFILES: &str = r#"
# relayctl: profile names from the configuration at run time.
function __fish_relayctl_after_profile_option
    set -l tokens (commandline -opc)
    test "$tokens[-1]" = --profile
end
complete -c relayctl -n __fish_relayctl_after_profile_option -f -a "(relayctl generate profile-names 2>/dev/null)"
complete -c relayctl -n "__fish_relayctl_using_subcommand profile; and __fish_seen_subcommand_from show remove default set-secret" -f -a "(relayctl generate profile-names 2>/dev/null)"
"#;

const ZSH_PROFILES: &str = r#"(( $+functions[_relayctl_profiles] )) ||
_relayctl_profiles() {
    local -a profiles
    profiles=(${(f)"$(relayctl generate profile-names 2>/dev/null)"})
    _describe -t profiles 'relay profile' profiles
}

"#;

const BASH_PROFILES: &str = r#"
# relayctl: profile names (for --profile and `profile show|remove|default|set-secret`) come from
# the configuration at run time, through `relayctl generate profile-names`.
_relayctl_with_profiles() {
    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}"
    local i word words=()
    for ((i = 1; i < COMP_CWORD; i++)); do
        word="${COMP_WORDS[i]}"
        case "$word" in
            --config | --profile | --spool)
                [[ ${COMP_WORDS[i+1]} == = ]] && ((i++))
                ((i++))
                ;;
            -*) ;;
            *) words+=("$word") ;;
        esac
    done
    # `--profile=NAME`: bash splits at `=` (COMP_WORDBREAKS), so the word before is `=`.
    if [[ $prev == --profile || ($prev == = && ${COMP_WORDS[COMP_CWORD-2]} == --profile) ]] ||
        [[ ${#words[@]} -eq 2 && ${words[0]} == profile && ${words[1]} =~ ^(show|remove|default|set-secret)$ && $cur != -* ]]; then
        local IFS=$'\n'
        COMPREPLY=($(compgen -W "$(relayctl generate profile-names 2>/dev/null)" -- "$cur"))
        return 0
    fi
    _relayctl "$@"
}
if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _relayctl_with_profiles -o nosort -o bashdefault -o default relayctl
else
    complete -F _relayctl_with_profiles -o bashdefault -o default relayctl
fi
"#;

#[cfg(test)]
mod tests {
    use serde::de::{self, Deserialize, Visitor};

    use crate::config::{ConfigFile, Profile, QueueSettings, ServerSettings};

    /// A deserializer that records the field names serde asks a struct for, then stops.
    struct FieldNames<'a>(&'a mut Vec<&'static str>);

    impl<'de> de::Deserializer<'de> for FieldNames<'_> {
        type Error = de::value::Error;

        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            self.0.extend(fields);
            Err(de::Error::custom("fields recorded"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
            ignored_any
        }
    }

    fn keys<'de, T: Deserialize<'de>>() -> Vec<&'static str> {
        let mut names = Vec::new();
        let _ = T::deserialize(FieldNames(&mut names));
        assert!(!names.is_empty());
        names
    }

    #[test]
    fn the_config_page_documents_every_key() {
        let page = include_str!("relayctl.toml.5.roff");
        let mut missing = Vec::new();
        for key in keys::<ConfigFile>()
            .into_iter()
            .chain(keys::<Profile>())
            .chain(keys::<QueueSettings>())
            .chain(keys::<ServerSettings>())
        {
            let entry = match key {
                "profiles" => ".SH PROFILES\n".to_string(),
                "aliases" => ".SH ALIASES\n".to_string(),
                "routes" => ".SH ROUTES\n".to_string(),
                "queue" => ".SH QUEUE\n".to_string(),
                "server" => ".SH SERVER\n".to_string(),
                key => format!(".TP\n.B {key}\n"),
            };
            if !page.contains(&entry) {
                missing.push(key);
            }
        }
        assert!(
            missing.is_empty(),
            "src/generate/relayctl.toml.5.roff lacks an entry (.TP, then .B KEY) for {missing:?}"
        );
    }

    #[test]
    fn relayctl_1_has_a_section_per_command() {
        let page = String::from_utf8(super::relayctl_1()).unwrap();
        for path in [
            "relayctl setup",
            "relayctl profile set-secret",
            "relayctl send",
            "relayctl sendmail",
            "relayctl sendmail-link install",
            "relayctl queue retry",
            "relayctl queue move",
            "relayctl queue daemon",
        ] {
            assert!(page.contains(&format!(".SS \"{path}\"\n")), "{path}");
        }
        assert!(
            !page.contains("generate"),
            "the hidden command is not documented"
        );
    }
}
