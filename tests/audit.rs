//! `keytrace audit` (issue 11): the hash-chained evidence log through the real binary.
//! Records are added with the hidden `audit append` (real lock, temp file and rename);
//! each tamper case edits the file's bytes and expects exit 1 naming the right record.

use crate::macros::{run, run_stdin, spawn_stdin, TestDir};
use serde_json::{json, Value};

const LOG: &str = "evidence.jsonl";

/// Appends `body` to `dir/LOG` through `audit append`; returns (exit code, stdout, stderr).
fn append(dir: &TestDir, body: &Value) -> (i32, String, String) {
    run_stdin(
        dir.command().args(["audit", "append", LOG]),
        &body.to_string(),
    )
}

fn appended(dir: &TestDir, body: &Value) {
    let (code, out, err) = append(dir, body);
    assert_eq!(code, 0, "append: {out}{err}");
}

fn audit(dir: &TestDir, args: &[&str]) -> (i32, String, String) {
    run(dir.command().arg("audit").args(args))
}

fn log_lines(dir: &TestDir) -> Vec<String> {
    let text = std::fs::read_to_string(dir.path().join(LOG)).expect("read log");
    text.lines().map(str::to_string).collect()
}

fn write_lines(dir: &TestDir, lines: &[String]) {
    let mut text = lines.join("\n");
    text.push('\n');
    dir.write(LOG, text);
}

fn digest_of(line: &str) -> String {
    let record: Value = serde_json::from_str(line).expect("record JSON");
    record["digest"].as_str().expect("digest").to_string()
}

/// A `verify-reset` body as the lead's command writes it: `(id, verdict, remaining)` per credential.
fn reset_check(finished: &str, ticket: &str, credentials: &[(&str, &str, usize)]) -> Value {
    let credentials: Vec<Value> = credentials
        .iter()
        .map(|(id, verdict, remaining)| {
            let locations: Vec<Value> = (0..*remaining)
                .map(|i| {
                    json!({"kind": "revoked-secret-present", "repo": "payments", "path": ".env",
                           "line": i + 1, "column": 7, "commit": null, "where": "tree"})
                })
                .collect();
            json!({
                "id": id, "kind": "github-pat", "owner": "team-payments", "verdict": verdict,
                "versions": [
                    {"version": 1, "fingerprint": format!("sha256:{}", "ab".repeat(32)),
                     "hint": "ghp_Ab", "status": "revoked", "revoked": true,
                     "reset": {"by": "alice", "approved_by": "bob", "ticket": ticket,
                               "reason": "suspected exposure"},
                     "revocation": {"method": "provider-console", "evidence": "screenshot", "at": finished},
                     "provider_revocation_recorded": true},
                    {"version": 2, "fingerprint": format!("sha256:{}", "cd".repeat(32)),
                     "hint": "ghp_Zq", "status": "active", "revoked": false, "reset": null,
                     "revocation": null, "provider_revocation_recorded": false}
                ],
                "identifiers": [], "retired_references": ["github-secret:OLD_DEPLOY_TOKEN"],
                "remaining": locations
            })
        })
        .collect();
    json!({
        "kind": "verify-reset", "started": "2026-12-01T09:59:00Z", "finished": finished,
        "verdict": "incomplete", "history_policy": "block", "history": true,
        "tool": {"name": "keytrace", "version": "0.1.0", "rules_digest": "sha256:00",
                 "inventory_digest": "sha256:11"},
        "inventory": "keytrace-inventory.json",
        "credentials": credentials,
        "scope": [
            {"repo": "payments", "root": "/srv/repos/payments", "head": "0123abcd", "branch": "main",
             "history": true, "commits": 12, "blobs": 40, "files_scanned": 9, "holes": []},
            {"repo": "infra", "root": "/srv/repos/infra", "head": "4567ef01", "branch": "main",
             "history": true, "commits": 3, "blobs": 8, "files_scanned": 4,
             "holes": [{"code": "shallow-clone", "message": "shallow clone"}]}
        ],
        "holes": [{"repo": "infra", "code": "shallow-clone", "message": "shallow clone"}]
    })
}

/// A log of three simple records; returns its lines.
fn three_records(dir: &TestDir) -> Vec<String> {
    for (i, ticket) in ["SEC-1", "SEC-2", "SEC-3"].iter().enumerate() {
        let finished = format!("2026-12-0{}T10:00:00Z", i + 1);
        appended(
            dir,
            &reset_check(&finished, ticket, &[("deploy-token", "complete", 0)]),
        );
    }
    log_lines(dir)
}

/// `audit verify` on the log as it is now must exit 1 naming `record` with `reason` in the message.
fn assert_broken_at(dir: &TestDir, record: u64, reason: &str) {
    let (code, out, err) = audit(dir, &["verify", LOG]);
    assert_eq!(code, 1, "{out}{err}");
    let expected = format!("{LOG}: record {record}: ");
    assert!(
        out.starts_with(&expected) && out.contains(reason),
        "expected `{expected}…{reason}…`, got: {out}{err}"
    );
}

kttest!(
    an_intact_log_verifies_with_its_count_and_head,
    |dir, _cmd| {
        let lines = three_records(&dir);
        let (code, out, err) = audit(&dir, &["verify", LOG]);
        assert_eq!(code, 0, "{out}{err}");
        let head = digest_of(&lines[2]);
        assert_eq!(
            out,
            format!("{LOG}: 3 records, chain intact, head {head}\n")
        );
        // The head is what append printed for the last record.
        let (_, appended, _) = append(&dir, &json!({"kind": "note"}));
        let last = log_lines(&dir).pop().expect("line");
        assert!(appended.contains(&format!("record 4, head {}", digest_of(&last))));
    }
);

kttest!(an_edited_byte_names_its_record, |dir, _cmd| {
    let mut lines = three_records(&dir);
    lines[1] = lines[1].replacen("SEC-2", "SEC-9", 1);
    write_lines(&dir, &lines);
    assert_broken_at(&dir, 2, "edited");
});

kttest!(a_deleted_record_names_its_place, |dir, _cmd| {
    let mut lines = three_records(&dir);
    lines.remove(1);
    write_lines(&dir, &lines);
    assert_broken_at(&dir, 2, "seq is 3 where 2 was expected");
});

kttest!(an_inserted_copy_names_its_place, |dir, _cmd| {
    let mut lines = three_records(&dir);
    lines.insert(2, lines[0].clone());
    write_lines(&dir, &lines);
    assert_broken_at(&dir, 3, "seq is 1 where 3 was expected");
});

kttest!(swapped_records_name_the_first_moved, |dir, _cmd| {
    let mut lines = three_records(&dir);
    lines.swap(1, 2);
    write_lines(&dir, &lines);
    assert_broken_at(&dir, 2, "seq is 3 where 2 was expected");
});

kttest!(a_renumbered_record_fails_its_own_digest, |dir, _cmd| {
    // Removing record 2 and re-signing record 3 as record 2 needs the digest: the
    // renumbered line no longer matches its own bytes.
    let mut lines = three_records(&dir);
    let moved = lines[2].replacen("{\"seq\":3,", "{\"seq\":2,", 1);
    lines.truncate(1);
    lines.push(moved);
    write_lines(&dir, &lines);
    assert_broken_at(&dir, 2, "edited");
});

kttest!(a_cut_mid_record_is_truncation, |dir, _cmd| {
    three_records(&dir);
    let bytes = std::fs::read(dir.path().join(LOG)).expect("read");
    dir.write(LOG, &bytes[..bytes.len() - 40]);
    assert_broken_at(&dir, 3, "truncated");
});

kttest!(
    a_removed_last_record_is_caught_by_the_anchor,
    |dir, _cmd| {
        let mut lines = three_records(&dir);
        let old_head = digest_of(&lines[2]);
        let earlier = digest_of(&lines[1]);
        let (code, out, _) = audit(&dir, &["verify", LOG, "--head", &earlier]);
        assert_eq!(code, 0, "{out}");
        assert!(
            out.contains(&format!("1 record after the anchor {earlier}")),
            "{out}"
        );
        let (code, out, _) = audit(
            &dir,
            &[
                "verify",
                LOG,
                "--head",
                &old_head.to_uppercase().replace("SHA256", "sha256"),
            ],
        );
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("the head is the anchor"), "{out}");

        lines.pop();
        write_lines(&dir, &lines);
        let (code, out, err) = audit(&dir, &["verify", LOG]);
        assert_eq!(
            (code, out.contains("2 records, chain intact")),
            (0, true),
            "{out}{err}"
        );
        let (code, out, err) = audit(&dir, &["verify", LOG, "--head", &old_head]);
        assert_eq!(code, 1, "{out}{err}");
        assert!(
            out.contains(&format!("the anchor {old_head} is not in the log")),
            "{out}"
        );
    }
);

kttest!(
    missing_files_and_bad_anchors_are_input_errors,
    |dir, _cmd| {
        let (code, out, err) = audit(&dir, &["verify", "absent.jsonl"]);
        assert_eq!(code, 2, "{out}{err}");
        assert!(
            err.contains("absent.jsonl: cannot read evidence log"),
            "{err}"
        );
        let (code, _, err) = audit(&dir, &["show", "absent.jsonl"]);
        assert_eq!(code, 2, "{err}");
        three_records(&dir);
        let (code, _, err) = audit(&dir, &["verify", LOG, "--head", "sha256:abc"]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("--head sha256:abc"), "{err}");
        dir.write("empty.jsonl", "");
        let (code, out, _) = audit(&dir, &["verify", "empty.jsonl"]);
        assert_eq!(code, 0);
        assert!(out.contains("0 records, chain intact"), "{out}");
    }
);

kttest!(
    bodies_that_are_not_objects_or_set_chain_keys_are_refused,
    |dir, _cmd| {
        for body in [
            json!([1]),
            json!({"seq": 7}),
            json!({"digest": "x"}),
            json!({"prev": "x"}),
        ] {
            let (code, out, err) = append(&dir, &body);
            assert_eq!(code, 2, "{body}: {out}{err}");
        }
        assert!(!dir.path().join(LOG).exists());
        let (code, _, err) = run_stdin(
            dir.command()
                .args(["audit", "append", "no-such-dir/log.jsonl"]),
            "{}",
        );
        assert_eq!(code, 2);
        assert!(err.contains("does not exist"), "{err}");
    }
);

kttest!(concurrent_appends_all_land_in_one_chain, |dir, _cmd| {
    let children: Vec<_> = (0..8)
        .map(|i| {
            let body = json!({"kind": "note", "writer": i});
            spawn_stdin(
                dir.command().args(["audit", "append", LOG]),
                &body.to_string(),
            )
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().expect("wait");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let (code, out, err) = audit(&dir, &["verify", LOG]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("8 records, chain intact"), "{out}");
    let records: Vec<Value> = log_lines(&dir)
        .iter()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    let seqs: Vec<u64> = records
        .iter()
        .map(|r| r["seq"].as_u64().expect("seq"))
        .collect();
    assert_eq!(seqs, (1..=8).collect::<Vec<_>>());
    let mut writers: Vec<u64> = records
        .iter()
        .map(|r| r["writer"].as_u64().expect("writer"))
        .collect();
    writers.sort_unstable();
    assert_eq!(writers, (0..8).collect::<Vec<_>>());
});

kttest!(
    a_stray_temp_file_breaks_nothing_and_is_cleaned,
    |dir, _cmd| {
        three_records(&dir);
        // What a writer that died between writing its temp file and the rename leaves.
        let stray = dir.write(&format!(".{LOG}.tmp.99999.0"), "{\"seq\":1,\"prev\":");
        let (code, out, err) = audit(&dir, &["verify", LOG]);
        assert_eq!(code, 0, "{out}{err}");
        appended(&dir, &json!({"kind": "note"}));
        assert!(
            !stray.exists(),
            "the next append removes the stray temp file"
        );
        let (code, out, err) = audit(&dir, &["verify", LOG]);
        assert_eq!(code, 0, "{out}{err}");
        assert!(out.contains("4 records"), "{out}");
    }
);

kttest!(
    a_refused_append_leaves_a_broken_log_unchanged,
    |dir, _cmd| {
        let mut lines = three_records(&dir);
        lines[1] = lines[1].replacen("alice", "mallory", 1);
        write_lines(&dir, &lines);
        let before = std::fs::read(dir.path().join(LOG)).expect("read");
        let (code, out, err) = append(&dir, &json!({"kind": "note"}));
        assert_eq!(code, 1, "{out}{err}");
        assert!(err.contains(&format!("{LOG}: record 2: ")), "{err}");
        assert_eq!(std::fs::read(dir.path().join(LOG)).expect("read"), before);
        let (code, out, err) = audit(&dir, &["show", LOG]);
        assert_eq!((code, out.as_str()), (1, ""), "{err}");
        assert!(err.contains("record 2: "), "{err}");
    }
);

/// A log with two reset checks of two credentials and one record of another kind.
fn history(dir: &TestDir) -> String {
    appended(
        dir,
        &reset_check(
            "2026-12-01T10:00:00Z",
            "SEC-42",
            &[
                ("deploy-token", "incomplete", 2),
                ("db-password", "complete", 0),
            ],
        ),
    );
    appended(
        dir,
        &json!({"kind": "provider-note", "at": "2026-12-01T11:00:00Z", "extra": {"x": 1}}),
    );
    appended(
        dir,
        &reset_check(
            "2026-12-02T10:00:00Z",
            "SEC-42",
            &[("deploy-token", "complete", 0)],
        ),
    );
    digest_of(log_lines(dir).last().expect("line"))
}

kttest!(
    show_prints_one_row_per_record_and_credential,
    |dir, _cmd| {
        let head = history(&dir);
        let (code, out, err) = audit(&dir, &["show", LOG]);
        assert_eq!(code, 0, "{err}");
        let rows: Vec<Vec<&str>> = out
            .lines()
            .map(|l| l.split_whitespace().collect())
            .collect();
        assert_eq!(
            rows[0],
            [
                "SEQ",
                "FINISHED",
                "CREDENTIAL",
                "VERDICT",
                "RESET",
                "BY",
                "APPROVED",
                "BY",
                "TICKET",
                "REMAINING",
                "REPOSITORIES",
                "HOLES"
            ]
        );
        let expected = [
            [
                "1",
                "2026-12-01T10:00:00Z",
                "deploy-token",
                "incomplete",
                "alice",
                "bob",
                "SEC-42",
                "2",
                "2",
                "1",
            ],
            [
                "1",
                "2026-12-01T10:00:00Z",
                "db-password",
                "complete",
                "alice",
                "bob",
                "SEC-42",
                "0",
                "2",
                "1",
            ],
            ["2", "-", "-", "-", "-", "-", "-", "-", "-", "-"],
            [
                "3",
                "2026-12-02T10:00:00Z",
                "deploy-token",
                "complete",
                "alice",
                "bob",
                "SEC-42",
                "0",
                "2",
                "1",
            ],
        ];
        for (row, want) in rows[1..].iter().zip(expected) {
            assert_eq!(row.as_slice(), want.as_slice(), "{out}");
        }
        assert!(out.contains("record 2 is of kind provider-note"), "{out}");
        assert!(
            out.ends_with(&format!("{LOG}: 3 records, chain intact, head {head}\n")),
            "{out}"
        );

        let (code, out, _) = audit(&dir, &["show", LOG, "--credential", "db-password"]);
        assert_eq!(code, 0);
        let ids: Vec<&str> = out
            .lines()
            .skip(1)
            .take_while(|l| !l.starts_with(LOG))
            .filter_map(|l| l.split_whitespace().nth(2))
            .collect();
        assert_eq!(ids, ["db-password"], "{out}");
        let (_, out, _) = audit(&dir, &["show", LOG, "--credential", "nobody"]);
        assert!(out.contains("(no record of credential nobody)"), "{out}");
    }
);

kttest!(
    show_markdown_is_a_ticket_block_with_the_head,
    |dir, _cmd| {
        let head = history(&dir);
        let (code, out, err) = audit(
            &dir,
            &[
                "show",
                LOG,
                "--format",
                "markdown",
                "--credential",
                "deploy-token",
            ],
        );
        assert_eq!(code, 0, "{err}");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "### Credential reset evidence: deploy-token");
        assert_eq!(
        lines[2],
        "| Seq | Finished | Credential | Verdict | Reset by | Approved by | Ticket | Remaining | Repositories | Holes |"
    );
        assert_eq!(lines[4], "| 1 | 2026-12-01T10:00:00Z | deploy-token | incomplete | alice | bob | SEC-42 | 2 | 2 | 1 |");
        assert_eq!(lines[5], "| 3 | 2026-12-02T10:00:00Z | deploy-token | complete | alice | bob | SEC-42 | 0 | 2 | 1 |");
        assert_eq!(
            lines.last().copied(),
            Some(format!("Evidence log `{LOG}`: 3 records, chain intact, head `{head}`.").as_str())
        );
    }
);

kttest!(show_json_prints_the_selected_records_whole, |dir, _cmd| {
    history(&dir);
    let (code, out, err) = audit(&dir, &["show", LOG, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let all: Vec<Value> = serde_json::from_str(&out).expect("JSON");
    let logged: Vec<Value> = log_lines(&dir)
        .iter()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(all, logged);
    let (_, out, _) = audit(
        &dir,
        &[
            "show",
            LOG,
            "--format",
            "json",
            "--credential",
            "db-password",
        ],
    );
    let some: Vec<Value> = serde_json::from_str(&out).expect("JSON");
    assert_eq!(some, logged[..1]);
});

kttest!(show_escapes_control_characters_from_the_log, |dir, _cmd| {
    appended(
        &dir,
        &reset_check(
            "2026-12-01T10:00:00Z\u{1b}[2J",
            "SEC-1|2",
            &[("x", "complete", 0)],
        ),
    );
    let (_, out, _) = audit(&dir, &["show", LOG]);
    assert!(
        !out.contains('\u{1b}') && out.contains("\\u{1b}[2J"),
        "{out}"
    );
    let (_, out, _) = audit(&dir, &["show", LOG, "--format", "markdown"]);
    assert!(out.contains("SEC-1\\|2"), "{out}");
});
