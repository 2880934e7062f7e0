//! `keytrace inventory`: keep the credential inventory (DESIGN §4).
//!
//! Secrets are read from stdin only, never from argv: on a terminal the prompt
//! turns echo off (termios through `libc`); only fingerprints and short hints
//! are stored. Every change takes the inventory's lock and replaces the file
//! atomically.

use super::scan::fingerprinter_from_env;
use super::{ExitStatus, Global};
use crate::fingerprint::{canonical, hint, Fingerprinter, KnownValues};
use crate::inventory::{
    self, import, Credential, Index, Inventory, Reference, Revocation, Status, Store, Version,
    DEFAULT_FILE,
};
use crate::rules::RuleSet;
use crate::types::ResetRecord;
use anyhow::{bail, Context as _};
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct InventoryArgs {
    /// Inventory file.
    #[arg(long, global = true, value_name = "FILE", default_value = DEFAULT_FILE)]
    pub inventory: PathBuf,
    #[command(subcommand)]
    pub command: InventoryCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum InventoryCommand {
    /// Add a credential; its secret is read from stdin (prompted without echo on a terminal).
    Add(AddArgs),
    /// Record a new version (secret from stdin); every older active version becomes revoked.
    Rotate(RotateArgs),
    /// Move a reference of a credential to its retired references.
    RetireReference {
        /// Credential id.
        #[arg(long)]
        id: String,
        /// Reference, `scheme:name` (e.g. github-secret:OLD_DEPLOY_TOKEN).
        reference: String,
    },
    /// Record how the provider-side revocation of a revoked version was confirmed
    /// (keytrace records it; it does not call provider APIs). Evidence records say whether it is there.
    RecordRevocation {
        /// Credential id.
        #[arg(long)]
        id: String,
        /// Version number (default: the most recently revoked version).
        #[arg(long, value_name = "N")]
        revoked_version: Option<usize>,
        /// How it was confirmed, e.g. `github-api`, `aws-iam-delete-access-key`, `console`.
        #[arg(long)]
        method: String,
        /// What shows it: an API response id, an audit-log event, a ticket comment link.
        #[arg(long, default_value = "")]
        evidence: String,
        /// When the provider revoked it (RFC 3339; default: now).
        #[arg(long, value_name = "TIME", value_parser = crate::time::parse_date)]
        at: Option<i64>,
    },
    /// List credentials, one line each.
    List,
    /// Show one credential: versions, hints, references and resets (never plaintext).
    Show {
        /// Credential id.
        id: String,
    },
    /// List credentials past their rotation_days; exit 1 if any.
    Check,
    /// Import AWS access keys: `aws iam list-access-keys` JSON or the IAM credential report CSV.
    Import {
        /// The JSON or CSV file (the format is recognised from its content).
        file: PathBuf,
        /// rotation_days for credentials this import creates.
        #[arg(long, value_name = "DAYS")]
        rotation_days: Option<u32>,
    },
    /// Turn the unmanaged findings of a JSON report into credentials (one per fingerprint).
    Adopt {
        /// A `keytrace scan --format json` report.
        report: PathBuf,
        /// Directory the report's paths are relative to, to infer references (default: .).
        #[arg(long, value_name = "DIR", default_value = ".")]
        root: PathBuf,
    },
}

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// Credential id (stable, e.g. payments-deploy-token).
    #[arg(long)]
    pub id: String,
    /// Kind of credential (e.g. github-pat, aws-access-key).
    #[arg(long)]
    pub kind: String,
    /// Owning team or person.
    #[arg(long, default_value = "")]
    pub owner: String,
    /// Days after which the active version should be rotated.
    #[arg(long, value_name = "DAYS")]
    pub rotation_days: Option<u32>,
    /// Where the credential is referenced, `scheme:name` (repeatable).
    #[arg(long = "reference", value_name = "REF")]
    pub references: Vec<String>,
    /// Public identifier of the credential, e.g. an AWS access key id (repeatable).
    #[arg(long = "identifier", value_name = "ID")]
    pub identifiers: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct RotateArgs {
    /// Credential id.
    #[arg(long)]
    pub id: String,
    /// Who performed the reset.
    #[arg(long)]
    pub by: String,
    /// Who approved it.
    #[arg(long)]
    pub approved_by: String,
    /// Ticket or change record.
    #[arg(long)]
    pub ticket: String,
    /// Why the credential was reset.
    #[arg(long)]
    pub reason: String,
    /// Public identifier of the new version, e.g. its AWS access key id.
    #[arg(long, value_name = "ID")]
    pub identifier: Option<String>,
}

/// The inventory file a scan links to: the named file, else `keytrace-inventory.json` when present.
pub fn path_for_scan(explicit: Option<&Path>) -> Option<PathBuf> {
    match explicit {
        Some(p) => Some(p.to_path_buf()),
        None if Path::new(DEFAULT_FILE).is_file() => Some(PathBuf::from(DEFAULT_FILE)),
        None => None,
    }
}

/// An inventory being indexed on its own thread.
pub struct Indexing {
    may_retire_references: std::sync::mpsc::Receiver<bool>,
    /// The revoked values and identifiers, sent as soon as the index is built.
    known_values: std::sync::mpsc::Receiver<KnownValues>,
    thread: std::thread::JoinHandle<Result<Index, inventory::InventoryError>>,
}

/// Opens the inventory at `path` (failing at once when it cannot be read) and
/// indexes it on a thread of its own, which first tells whether it lists
/// retired references. A scan starts this before compiling rules, so the
/// index is built on the core that compilation leaves idle and then beside
/// the scan.
pub fn start_indexing(path: &Path, fp: &Fingerprinter) -> anyhow::Result<Indexing> {
    let opened = Index::open(path)?;
    let (tell, may_retire_references) = std::sync::mpsc::sync_channel(1);
    let (tell_known, known_values) = std::sync::mpsc::sync_channel(1);
    let fp = fp.clone();
    let thread = std::thread::Builder::new()
        .name("inventory".into())
        .spawn(move || {
            // The receivers may be gone when the scan stopped on an error of its own.
            let _ = tell.send(opened.may_retire_references());
            opened.index_then(&fp, crate::time::now(), |index| {
                let _ = tell_known.send(index.revoked_values(None));
            })
        })
        .context("cannot start the inventory thread")?;
    Ok(Indexing {
        may_retire_references,
        known_values,
        thread,
    })
}

impl Indexing {
    /// Whether the inventory lists any retired reference (waits for the pre-check only).
    pub fn may_retire_references(&self) -> anyhow::Result<bool> {
        self.may_retire_references
            .recv()
            .map_err(|_| anyhow::anyhow!("the inventory thread stopped unexpectedly"))
    }

    /// The revoked values and identifiers of every credential, for the known-value
    /// pass (waits for the index to be built, not for the scan). `None` when the
    /// inventory is unusable: [`Indexing::finish`] then says why.
    pub fn known_values(&self) -> Option<KnownValues> {
        self.known_values.recv().ok()
    }

    /// The finished index, or why the inventory is unusable.
    pub fn finish(self) -> anyhow::Result<Index> {
        let index = self
            .thread
            .join()
            .map_err(|_| anyhow::anyhow!("the inventory thread stopped unexpectedly"))?;
        Ok(index?)
    }
}

/// The inventory a scan links to, loaded and indexed (see [`path_for_scan`]).
pub fn index_for_scan(
    explicit: Option<&Path>,
    fp: &Fingerprinter,
) -> anyhow::Result<Option<Index>> {
    let Some(path) = path_for_scan(explicit) else {
        return Ok(None);
    };
    Ok(Some(Index::open(&path)?.index(fp, crate::time::now())?))
}

pub fn run(_global: &Global, args: &InventoryArgs) -> anyhow::Result<ExitStatus> {
    let path = &args.inventory;
    let fp = fingerprinter_from_env();
    let now = crate::time::now();
    match &args.command {
        InventoryCommand::Add(a) => add(path, &fp, a, now),
        InventoryCommand::Rotate(a) => rotate(path, &fp, a, now),
        InventoryCommand::RetireReference { id, reference } => {
            let reference = parse_reference(reference)?;
            update(path, &fp, |inv| {
                let c = credential_mut(inv, id)?;
                c.references.retain(|r| *r != reference);
                if !c.retired_references.contains(&reference) {
                    c.retired_references.push(reference.clone());
                }
                println!("{id}: {reference} is now a retired reference");
                Ok(())
            })?;
            Ok(ExitStatus::Clean)
        }
        InventoryCommand::RecordRevocation {
            id,
            revoked_version,
            method,
            evidence,
            at,
        } => {
            update(path, &fp, |inv| {
                let c = credential_mut(inv, id)?;
                let n = match revoked_version {
                    Some(n) => *n,
                    None => newest_revoked(c).with_context(|| {
                        format!("`{id}` has no revoked version (rotate it first)")
                    })?,
                };
                let v = n
                    .checked_sub(1)
                    .and_then(|i| c.versions.get_mut(i))
                    .with_context(|| format!("`{id}` has no version {n}"))?;
                if v.status != Status::Revoked {
                    bail!(
                        "`{id}` v{n} is {}: only a revoked version has a provider revocation",
                        v.status.as_str()
                    );
                }
                v.revocation = Some(Box::new(Revocation {
                    method: method.clone(),
                    evidence: evidence.clone(),
                    at: inventory_timestamp(at.unwrap_or(now)),
                }));
                println!("{id} v{n}: provider revocation recorded ({method})");
                Ok(())
            })?;
            Ok(ExitStatus::Clean)
        }
        InventoryCommand::List => {
            let inv = read(path, &fp)?;
            list(&inv, now)
        }
        InventoryCommand::Show { id } => {
            let inv = read(path, &fp)?;
            let c = inv
                .get(id)
                .with_context(|| format!("no credential `{id}` in {}", path.display()))?;
            show(c, now)
        }
        InventoryCommand::Check => check(&read(path, &fp)?, now),
        InventoryCommand::Import {
            file,
            rotation_days,
        } => {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("{}: cannot read", file.display()))?;
            update(path, &fp, |inv| {
                let before: Vec<String> = inv.credentials.iter().map(|c| c.id.clone()).collect();
                let done = if text.trim_start().starts_with('{') {
                    import::aws_access_keys(inv, file, &text, now)?
                } else {
                    import::aws_credential_report(inv, file, &text, now)?
                };
                for c in inv
                    .credentials
                    .iter_mut()
                    .filter(|c| !before.contains(&c.id))
                {
                    c.rotation_days = c.rotation_days.or(*rotation_days);
                }
                println!(
                    "imported {}: {} credential(s) added, {} version(s) added, {} updated",
                    file.display(),
                    done.credentials_added,
                    done.versions_added,
                    done.versions_updated
                );
                Ok(())
            })?;
            Ok(ExitStatus::Clean)
        }
        InventoryCommand::Adopt { report, root } => {
            let text = std::fs::read_to_string(report)
                .with_context(|| format!("{}: cannot read", report.display()))?;
            update(path, &fp, |inv| {
                let done = import::adopt(inv, report, &text, root, fp.key_id().is_some(), now)?;
                if done.credentials_added > 0 && inv.fingerprint_key_id.is_none() {
                    inv.fingerprint_key_id = fp.key_id();
                }
                println!(
                    "adopted {} credential(s) from {}",
                    done.credentials_added,
                    report.display()
                );
                Ok(())
            })?;
            Ok(ExitStatus::Clean)
        }
    }
}

/// Reads an inventory that must exist.
fn read(path: &Path, fp: &Fingerprinter) -> anyhow::Result<Inventory> {
    if !path.exists() {
        bail!(
            "{}: no inventory here (create one with `keytrace inventory add`)",
            path.display()
        );
    }
    Ok(inventory::load(path, fp)?)
}

/// Locked read-modify-write: the change is saved only if `f` succeeds.
fn update(
    path: &Path,
    fp: &Fingerprinter,
    f: impl FnOnce(&mut Inventory) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let store = Store::lock(path)?;
    let mut inv = store.load(fp)?;
    f(&mut inv)?;
    Inventory::parse(path, &inv.to_pretty())
        .context("internal error: the updated inventory does not validate")?;
    store.save(&inv)?;
    Ok(())
}

/// The 1-based number of the version revoked last.
fn newest_revoked(c: &Credential) -> Option<usize> {
    c.versions
        .iter()
        .enumerate()
        .filter(|(_, v)| v.status == Status::Revoked)
        .max_by_key(|(i, v)| {
            (
                v.revoked.as_ref().map(crate::inventory::Timestamp::seconds),
                *i,
            )
        })
        .map(|(i, _)| i + 1)
}

fn credential_mut<'a>(inv: &'a mut Inventory, id: &str) -> anyhow::Result<&'a mut Credential> {
    inv.get_mut(id)
        .with_context(|| format!("no credential `{id}` in the inventory"))
}

fn parse_reference(r: &str) -> anyhow::Result<Reference> {
    Reference::try_from(r.to_string()).map_err(anyhow::Error::msg)
}

/// A new active version for `secret`: fingerprint and hint only.
fn new_version(
    inv: &mut Inventory,
    fp: &Fingerprinter,
    secret: &str,
    now: i64,
) -> anyhow::Result<Version> {
    let canon = canonical(secret);
    if canon.is_empty() {
        bail!("the secret read from stdin is empty");
    }
    let fingerprint = fp.of_canonical(&canon);
    if let Some((c, v)) = inv.find_fingerprint(&fingerprint) {
        bail!("this secret is already in the inventory as `{}` v{v}", c.id);
    }
    if inv.fingerprint_key_id.is_none() {
        inv.fingerprint_key_id = fp.key_id();
    }
    Ok(Version {
        fingerprint: Some(fingerprint.try_into().map_err(anyhow::Error::msg)?),
        hint: hint(&canon, known_prefix(&canon).as_deref()),
        length: u32::try_from(canon.len())
            .ok()
            .and_then(std::num::NonZeroU32::new),
        identifier: None,
        created: inventory_timestamp(now),
        status: Status::Active,
        revoked: None,
        reset: None,
        revocation: None,
    })
}

fn inventory_timestamp(now: i64) -> crate::inventory::Timestamp {
    crate::inventory::Timestamp::at(now)
}

/// The longest well-known prefix (from the rules) the value starts with, for its hint.
fn known_prefix(canon: &str) -> Option<String> {
    let set = RuleSet::embedded().ok()?;
    set.rules
        .iter()
        .filter_map(|r| r.prefix.as_deref())
        .filter(|p| canon.starts_with(p))
        .max_by_key(|p| p.len())
        .map(str::to_string)
}

fn add(path: &Path, fp: &Fingerprinter, a: &AddArgs, now: i64) -> anyhow::Result<ExitStatus> {
    let references = a
        .references
        .iter()
        .map(|r| parse_reference(r))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let secret = read_secret(&format!("secret for {}: ", a.id))?;
    update(path, fp, |inv| {
        if inv.get(&a.id).is_some() {
            bail!(
                "credential `{}` already exists; use `inventory rotate` for a new value",
                a.id
            );
        }
        let version = new_version(inv, fp, &secret, now)?;
        println!("added {} v1 ({})", a.id, display_hint(&version));
        inv.credentials.push(Credential {
            id: a.id.clone(),
            kind: a.kind.clone(),
            owner: a.owner.clone(),
            rotation_days: a.rotation_days,
            references,
            retired_references: Vec::new(),
            identifiers: a.identifiers.clone(),
            repos: Vec::new(),
            versions: vec![version],
        });
        Ok(())
    })?;
    Ok(ExitStatus::Clean)
}

fn rotate(path: &Path, fp: &Fingerprinter, a: &RotateArgs, now: i64) -> anyhow::Result<ExitStatus> {
    let secret = read_secret(&format!("new secret for {}: ", a.id))?;
    update(path, fp, |inv| {
        credential_mut(inv, &a.id)?;
        let mut version = new_version(inv, fp, &secret, now)?;
        version.identifier.clone_from(&a.identifier);
        let c = credential_mut(inv, &a.id)?;
        // A lone credential-level identifier (`add --identifier`) named the key being
        // revoked: it moves to that version, so the old key id is looked for as revoked.
        let active: Vec<usize> = (0..c.versions.len())
            .filter(|&i| c.versions[i].status == Status::Active)
            .collect();
        if let ([i], [_]) = (active.as_slice(), c.identifiers.as_slice()) {
            if c.versions[*i].identifier.is_none() && a.identifier.as_ref() != c.identifiers.first()
            {
                c.versions[*i].identifier = c.identifiers.pop();
            }
        }
        let reset = ResetRecord {
            by: a.by.clone(),
            approved_by: a.approved_by.clone(),
            ticket: a.ticket.clone(),
            reason: a.reason.clone(),
        };
        let mut revoked = Vec::new();
        for (i, v) in c.versions.iter_mut().enumerate() {
            if v.status == Status::Active {
                v.status = Status::Revoked;
                v.revoked = Some(inventory_timestamp(now));
                v.reset = Some(Box::new(reset.clone()));
                revoked.push(format!("v{}", i + 1));
            }
        }
        c.versions.push(version);
        println!(
            "rotated {}: v{} is active; revoked {}",
            a.id,
            c.versions.len(),
            if revoked.is_empty() {
                "nothing".to_string()
            } else {
                revoked.join(", ")
            }
        );
        Ok(())
    })?;
    Ok(ExitStatus::Clean)
}

fn display_hint(v: &Version) -> String {
    if v.hint.is_empty() {
        "no hint: short value".to_string()
    } else {
        format!("{}…", v.hint)
    }
}

fn list(inv: &Inventory, now: i64) -> anyhow::Result<ExitStatus> {
    let mut out = std::io::stdout().lock();
    let mut creds: Vec<&Credential> = inv.credentials.iter().collect();
    creds.sort_by(|a, b| a.id.cmp(&b.id));
    for c in creds {
        let active = c
            .active()
            .map_or("no active version".to_string(), |(n, v)| {
                format!("active v{n} ({})", display_hint(v))
            });
        let revoked = c
            .versions
            .iter()
            .filter(|v| v.status == Status::Revoked)
            .count();
        let overdue = c
            .overdue_days(now)
            .map_or(String::new(), |d| format!(", overdue by {d} days"));
        let owner = if c.owner.is_empty() { "-" } else { &c.owner };
        writeln!(
            out,
            "{}  {}  owner {}  {}, {} revoked{}",
            c.id, c.kind, owner, active, revoked, overdue
        )?;
    }
    Ok(ExitStatus::Clean)
}

fn show(c: &Credential, now: i64) -> anyhow::Result<ExitStatus> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{}\n  kind: {}\n  owner: {}",
        c.id,
        c.kind,
        if c.owner.is_empty() { "-" } else { &c.owner }
    )?;
    if let Some(days) = c.rotation_days {
        let overdue = c
            .overdue_days(now)
            .map_or(String::new(), |d| format!(" (overdue by {d} days)"));
        writeln!(out, "  rotation: every {days} days{overdue}")?;
    }
    let join = |v: &[Reference]| {
        v.iter()
            .map(Reference::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    writeln!(out, "  references: {}", join(&c.references))?;
    writeln!(out, "  retired references: {}", join(&c.retired_references))?;
    if !c.identifiers.is_empty() {
        writeln!(out, "  identifiers: {}", c.identifiers.join(", "))?;
    }
    for (i, v) in c.versions.iter().enumerate() {
        let fp = v
            .fingerprint
            .as_ref()
            .map_or("(identifier only)", |f| f.as_str());
        writeln!(
            out,
            "  v{} {} created {} {} {}",
            i + 1,
            v.status.as_str(),
            v.created.as_str(),
            display_hint(v),
            fp
        )?;
        if let Some(id) = &v.identifier {
            writeln!(out, "     identifier {id}")?;
        }
        if let Some(t) = &v.revoked {
            writeln!(out, "     revoked {}", t.as_str())?;
        }
        if let Some(r) = &v.reset {
            writeln!(
                out,
                "     reset by {}, approved by {}, ticket {}: {}",
                r.by, r.approved_by, r.ticket, r.reason
            )?;
        }
        if let Some(r) = &v.revocation {
            writeln!(
                out,
                "     provider revocation: {} at {} ({})",
                r.method,
                r.at.as_str(),
                r.evidence
            )?;
        }
    }
    Ok(ExitStatus::Clean)
}

fn check(inv: &Inventory, now: i64) -> anyhow::Result<ExitStatus> {
    let mut out = std::io::stdout().lock();
    let mut overdue = 0;
    let mut creds: Vec<&Credential> = inv.credentials.iter().collect();
    creds.sort_by(|a, b| a.id.cmp(&b.id));
    for c in creds {
        let (Some(days), Some(limit), Some((n, v))) =
            (c.overdue_days(now), c.rotation_days, c.active())
        else {
            continue;
        };
        overdue += 1;
        writeln!(
            out,
            "{}: active v{n} created {} is {} days old, {days} days past its rotation period of {limit} days (owner {})",
            c.id,
            v.created.as_str(),
            crate::time::days_between(v.created.seconds(), now),
            if c.owner.is_empty() { "-" } else { &c.owner }
        )?;
    }
    if overdue == 0 {
        writeln!(out, "no credential is past its rotation period")?;
        return Ok(ExitStatus::Clean);
    }
    writeln!(out, "{overdue} credential(s) past their rotation period")?;
    Ok(ExitStatus::Findings)
}

/// Reads a secret from stdin: the whole input minus its final newline, or on a
/// terminal one line typed without echo.
fn read_secret(prompt: &str) -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    let secret = if stdin.is_terminal() {
        eprint!("{prompt}");
        let _ = std::io::stderr().flush();
        let line = read_line_without_echo()?;
        eprintln!();
        line
    } else {
        let mut s = String::new();
        stdin
            .lock()
            .read_to_string(&mut s)
            .context("cannot read the secret from stdin")?;
        s
    };
    let secret = secret.trim_end_matches(['\n', '\r']).to_string();
    if secret.is_empty() {
        bail!("no secret on stdin (pipe it in, or type it at the prompt)");
    }
    Ok(secret)
}

#[cfg(unix)]
fn read_line_without_echo() -> anyhow::Result<String> {
    use std::os::unix::io::AsRawFd;
    let fd = std::io::stdin().as_raw_fd();
    // SAFETY: termios is plain data; tcgetattr fills it for a terminal fd.
    let mut term: libc::termios = unsafe { std::mem::zeroed() };
    if unsafe { libc::tcgetattr(fd, &mut term) } != 0 {
        return Err(std::io::Error::last_os_error()).context("cannot read terminal settings");
    }
    let saved = term;
    term.c_lflag &= !libc::ECHO;
    term.c_lflag |= libc::ECHONL;
    // SAFETY: fd is a terminal and term a valid termios.
    if unsafe { libc::tcsetattr(fd, libc::TCSANOW, &term) } != 0 {
        return Err(std::io::Error::last_os_error()).context("cannot turn terminal echo off");
    }
    let mut line = String::new();
    let read = std::io::stdin().read_line(&mut line);
    // SAFETY: restores the settings read above.
    unsafe { libc::tcsetattr(fd, libc::TCSANOW, &saved) };
    read.context("cannot read the secret")?;
    Ok(line)
}

#[cfg(not(unix))]
fn read_line_without_echo() -> anyhow::Result<String> {
    bail!("reading a secret from a terminal is not supported on this platform; pipe it to stdin")
}
