//! Feeds every file of the malformed-input corpus `tests/bad-inputs/` (written by
//! `scripts/make-bad-inputs`, listed in its `MANIFEST.tsv`) to the command-line tools that read
//! it, and checks what a user sees: exit status 2, exactly one line on stderr that names the
//! problem (the manifest's expected substring) and the file, no panic text, and no output file
//! or directory left behind.
//!
//! Model files go to `snn eval --model`, `codegen --model --out` and `verify --model --work`;
//! NIR files to `snn import --out`, `codegen --model` and `verify --model`; MNIST directories to `snn eval --data` and
//! `verify --data`; N-MNIST-layout event directories (one bad `.bin` each) to
//! `snn eval --events` with the corpus' valid 2x34x34 model `_events_model.safetensors`.
//! Rows with the command `codegen ARGS` give a valid helper model and bad options:
//! `codegen --model FILE ARGS` (the error is about the options, so it need not name the file).
//!
//! `codegen` and `verify` are other packages' binaries: the test builds them (a no-op when
//! they are up to date) with the same cargo and profile into the same target directory.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn corpus() -> PathBuf {
    root().join("tests/bad-inputs")
}

struct Case {
    file: String,
    command: String,
    expect: String,
}

fn manifest() -> Vec<Case> {
    let text = std::fs::read_to_string(corpus().join("MANIFEST.tsv")).expect("read manifest");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 3, "manifest line {l:?}");
            Case {
                file: f[0].into(),
                command: f[1].into(),
                expect: f[2].into(),
            }
        })
        .collect()
}

/// Path of a sibling binary (`codegen`, `verify`), built once per test run.
fn tool(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    let snn = PathBuf::from(env!("CARGO_BIN_EXE_snn"));
    let dir = snn.parent().unwrap().to_path_buf();
    BUILT.get_or_init(|| {
        // target/<profile-dir>/snn: build the other tools for the same target directory.
        let target = dir.parent().unwrap();
        let profile = if dir.file_name().unwrap() == "release" {
            "release"
        } else {
            "test"
        };
        let st = Command::new(env!("CARGO"))
            .current_dir(root())
            .env("CARGO_TARGET_DIR", target)
            .args(["build", "--quiet", "--profile", profile])
            .args([
                "-p", "codegen", "--bin", "codegen", "-p", "verify", "--bin", "verify",
            ])
            .status()
            .expect("run cargo build for codegen and verify");
        assert!(st.success(), "cargo build of codegen/verify failed");
    });
    dir.join(name)
}

/// Runs `exe` with `args` in a fresh temporary directory given as `{out}` (the output path
/// is `out_rel` inside it); returns the output and whether the temporary directory is empty
/// afterwards.
fn run(exe: &Path, args: &[String], out_rel: &str) -> (Output, Vec<String>) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join(out_rel);
    let args: Vec<String> = args
        .iter()
        .map(|a| a.replace("{out}", out.to_str().unwrap()))
        .collect();
    let o = Command::new(exe)
        .args(&args)
        .current_dir(root())
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("run tool");
    let left: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    (o, left)
}

/// Checks one run; returns a description of every failed check.
fn check(
    what: &str,
    o: &Output,
    left: &[String],
    file: &Path,
    expect: Option<&str>,
) -> Vec<String> {
    let mut bad = Vec::new();
    let err = String::from_utf8_lossy(&o.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    if o.status.code() != Some(2) {
        bad.push(format!(
            "{what}: exit status {:?}, expected 2",
            o.status.code()
        ));
    }
    if lines.len() != 1 {
        bad.push(format!(
            "{what}: {} stderr lines, expected 1: {err:?}",
            lines.len()
        ));
    }
    for panic in ["panicked", "RUST_BACKTRACE", "stack backtrace"] {
        if err.contains(panic) {
            bad.push(format!("{what}: panic text {panic:?} on stderr: {err:?}"));
        }
    }
    let fname = file.file_name().unwrap().to_string_lossy();
    if !err.contains(fname.as_ref()) {
        bad.push(format!(
            "{what}: stderr does not name the file {fname}: {err:?}"
        ));
    }
    // The expected text must come from the message itself, not from the file name in it.
    let msg = err
        .replace(file.to_str().unwrap(), "<file>")
        .replace(fname.as_ref(), "<file>");
    if let Some(x) = expect
        && !msg.contains(x)
    {
        bad.push(format!("{what}: stderr lacks {x:?}: {err:?}"));
    }
    if !left.is_empty() {
        bad.push(format!("{what}: left files behind: {left:?}"));
    }
    bad
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

#[test]
fn corpus_is_large_enough_and_complete() {
    let cases = manifest();
    assert!(cases.len() >= 30, "only {} bad inputs", cases.len());
    for c in &cases {
        assert!(corpus().join(&c.file).exists(), "{} is missing", c.file);
        assert!(!c.expect.is_empty(), "{}: no expected error", c.file);
    }
}

#[test]
fn every_bad_input_is_refused_cleanly() {
    let snn = PathBuf::from(env!("CARGO_BIN_EXE_snn"));
    let mut failures = Vec::new();
    let mut runs = 0;
    for c in manifest() {
        let path = corpus().join(&c.file);
        let p = path.to_str().unwrap().to_string();
        let expect = Some(c.expect.as_str());
        let mut go = |exe: &Path, what: &str, args: Vec<String>, expect: Option<&str>| {
            let (o, left) = run(exe, &args, "out");
            runs += 1;
            failures.extend(check(
                &format!("{} [{what}]", c.file),
                &o,
                &left,
                &path,
                expect,
            ));
        };
        match c.command.as_str() {
            "model" | "codegen-verify" => {
                // Every reader of model files must give the expected message; `snn eval` also
                // runs float models, so a float model is only bad input for codegen and verify.
                if c.command == "model" {
                    go(
                        &snn,
                        "snn eval",
                        s(&["eval", "--samples", "1", "--model", &p]),
                        expect,
                    );
                }
                let a = s(&["--no-synth", "--out", "{out}", "--model", &p]);
                go(&tool("codegen"), "codegen", a, expect);
                let a = s(&["--samples", "1", "--simulator", "icarus", "--work", "{out}"]);
                let a = [a, s(&["--model", &p])].concat();
                go(&tool("verify"), "verify", a, expect);
            }
            "import" => {
                go(
                    &snn,
                    "snn import",
                    s(&["import", &p, "--out", "{out}"]),
                    expect,
                );
            }
            "data" => {
                go(
                    &snn,
                    "snn eval --data",
                    s(&["eval", "--samples", "1", "--data", &p]),
                    expect,
                );
                let a = s(&[
                    "--samples",
                    "1",
                    "--simulator",
                    "icarus",
                    "--work",
                    "{out}",
                    "--data",
                    &p,
                ]);
                go(&tool("verify"), "verify --data", a, expect);
            }
            "events" => {
                // An event dataset directory with one bad file, evaluated with a valid
                // 2x34x34 model; the error must name the bad file inside the directory.
                let model = corpus().join("_events_model.safetensors");
                let bin = path.join("3").join("00001.bin");
                let a = s(&["eval", "--samples", "1", "--events", &p, "--model"]);
                let a = [a, vec![model.to_str().unwrap().to_string()]].concat();
                let (o, left) = run(&snn, &a, "out");
                runs += 1;
                failures.extend(check(
                    &format!("{} [snn eval --events]", c.file),
                    &o,
                    &left,
                    &bin,
                    expect,
                ));
            }
            cmd if cmd.starts_with("codegen ") => {
                let a = s(&["--no-synth", "--out", "{out}", "--model", &p]);
                let extra: Vec<String> = cmd.split_whitespace().skip(1).map(String::from).collect();
                let (o, left) = run(&tool("codegen"), &[a, extra].concat(), "out");
                runs += 1;
                failures.extend(
                    check(&format!("{} [{cmd}]", c.file), &o, &left, &path, expect)
                        .into_iter()
                        .filter(|f| !f.contains("does not name the file")),
                );
            }
            other => failures.push(format!("{}: unknown command {other:?}", c.file)),
        }
    }
    assert!(runs >= 30);
    assert!(
        failures.is_empty(),
        "{} failed checks:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// `verify` writes into a temporary directory renamed into place only when the flow completes:
/// when the simulator fails half-way (here a fake `iverilog` that answers `-V` and fails every
/// compile), neither the work directory nor a temporary one is left, and an existing work
/// directory is left untouched.
#[cfg(unix)]
#[test]
fn verify_leaves_no_half_written_work_directory() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let fake = bin.join("iverilog");
    std::fs::write(
        &fake,
        "#!/bin/sh\nif [ \"$1\" = -V ]; then echo fake; exit 0; fi\necho 'fake compile error' >&2\nexit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let outdir = tmp.path().join("runs");
    std::fs::create_dir(&outdir).unwrap();
    let work = outdir.join("work");
    let verify = |work: &Path| {
        Command::new(tool("verify"))
            .current_dir(root())
            .env("PATH", &path)
            .args(["--samples", "1", "--simulator", "icarus", "--work"])
            .arg(work)
            .output()
            .unwrap()
    };
    let o = verify(&work);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("fake compile error"), "{err}");
    let left: Vec<_> = std::fs::read_dir(&outdir).unwrap().collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    // An existing work directory survives a failed run unchanged.
    std::fs::create_dir(&work).unwrap();
    std::fs::write(work.join("old.txt"), "previous run").unwrap();
    let o = verify(&work);
    assert_eq!(o.status.code(), Some(1));
    let names: Vec<String> = std::fs::read_dir(&outdir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["work".to_string()]);
    assert_eq!(
        std::fs::read_to_string(work.join("old.txt")).unwrap(),
        "previous run"
    );
    assert_eq!(std::fs::read_dir(&work).unwrap().count(), 1);
}

/// A successful `verify` run ends with the complete work directory in place (and no temporary
/// directory beside it). Needs Icarus Verilog; skipped with a message when it is missing, and
/// failed instead when `SNN_REQUIRE_SIMULATORS=1` (as the other simulator tests).
#[test]
fn verify_success_renames_the_work_directory_into_place() {
    if Command::new("iverilog").arg("-V").output().is_err() {
        let msg = "missing Debian package: iverilog";
        if std::env::var_os("SNN_REQUIRE_SIMULATORS").is_some_and(|v| v == "1") {
            panic!("{msg} (SNN_REQUIRE_SIMULATORS=1)");
        }
        eprintln!("SKIPPED: {msg}");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("tiny.safetensors");
    kernels::model_io::save_int_model(&tiny_int_model(), &model).unwrap();
    let runs = tmp.path().join("runs");
    std::fs::create_dir(&runs).unwrap();
    let work = runs.join("work");
    let o = Command::new(tool("verify"))
        .current_dir(root())
        .args(["--samples", "1", "--simulator", "icarus", "--work"])
        .arg(&work)
        .arg("--model")
        .arg(&model)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let names: Vec<String> = std::fs::read_dir(&runs)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["work".to_string()]);
    assert!(work.join("design").is_dir());
    assert!(work.join("stimulus_run.hex").is_file());
}

/// A 784-4-2 integer model: small enough for a quick Icarus run.
fn tiny_int_model() -> kernels::model::IntModel {
    use kernels::model::{Encoding, IntLayer, IntModel, LayerOp, Shape};
    use kernels::neuron::{FiringRule, IntLifParams, Leak, ResetMode};
    let lif = |threshold| IntLifParams {
        leak: Leak::Shift { k: 4 },
        threshold,
        reset: ResetMode::Subtract,
        rule: FiringRule::Snntorch,
        membrane_bits: 16,
        syn_leak: None,
    };
    let image = Shape {
        channels: 1,
        height: 28,
        width: 28,
    };
    let dense = |name: &str, inputs: usize, outputs: usize, threshold| IntLayer {
        name: name.into(),
        op: LayerOp::Dense { inputs, outputs },
        weight_bits: 8,
        weights: (0..inputs * outputs)
            .map(|i| ((i * 7919) % 41) as i16 - 20)
            .collect(),
        bias: vec![],
        scale: 0.01,
        neuron: Some(lif(threshold)),
    };
    IntModel {
        name: "tiny".into(),
        input: image,
        timesteps: 4,
        encoding: Encoding::Lfsr { seed: 1, lanes: 4 },
        layers: vec![
            IntLayer {
                name: "flatten".into(),
                op: LayerOp::Flatten { input: image },
                weight_bits: 8,
                weights: vec![],
                bias: vec![],
                scale: 1.0,
                neuron: None,
            },
            dense("fc1", 784, 4, 60),
            dense("fc2", 4, 2, 10),
        ],
    }
}

/// The limits of `docs/limits.md`, at the command line: one past each limit is refused with
/// exit status 2 and one line naming the limit, before any work starts.
#[test]
fn tools_refuse_arguments_past_their_limits() {
    let snn = PathBuf::from(env!("CARGO_BIN_EXE_snn"));
    // The bundled integer model has 784 + 128 + 10 = 922 neurons: floor(2^26 / 922) = 72,786
    // timesteps per run at most.
    let cases: Vec<(PathBuf, Vec<&str>, &str)> = vec![
        (
            snn.clone(),
            vec!["eval", "--samples", "1", "--timesteps", "72787"],
            "at most 72786 timesteps",
        ),
        (
            snn.clone(),
            vec!["eval", "--samples", "1", "--timesteps", "0"],
            "timesteps 0",
        ),
        (snn.clone(), vec!["eval", "--samples", "2001"], "2001"),
        (snn.clone(), vec!["bench", "--samples", "2001"], "2001"),
        (
            tool("codegen"),
            vec!["--no-synth", "--out", "{out}", "--samples", "2001"],
            "--samples",
        ),
        (
            tool("codegen"),
            vec!["--no-synth", "--out", "{out}", "--timesteps", "65536"],
            "65535",
        ),
        (
            tool("verify"),
            vec!["--work", "{out}", "--samples", "2001"],
            "--samples",
        ),
    ];
    let mut failures = Vec::new();
    for (exe, args, expect) in cases {
        let (o, left) = run(&exe, &s(&args), "out");
        let err = String::from_utf8_lossy(&o.stderr);
        let what = format!(
            "{} {}",
            exe.file_name().unwrap().to_string_lossy(),
            args.join(" ")
        );
        if o.status.code() != Some(2) || err.lines().count() != 1 || !err.contains(expect) {
            failures.push(format!(
                "{what}: status {:?}, stderr {err:?}",
                o.status.code()
            ));
        }
        if !left.is_empty() {
            failures.push(format!("{what}: left {left:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// NIR inputs kept from fuzzing (`tests/fuzz-regressions/*.nir`) through `snn import`: exit
/// status 2, one line naming the file, no panic text, nothing written.
#[test]
fn fuzz_regression_nir_files_are_refused_cleanly() {
    let snn = PathBuf::from(env!("CARGO_BIN_EXE_snn"));
    let dir = root().join("tests/fuzz-regressions");
    let mut n = 0;
    let mut failures = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_none_or(|x| x != "nir") {
            continue;
        }
        n += 1;
        let p = path.to_str().unwrap().to_string();
        let (o, left) = run(&snn, &s(&["import", &p, "--out", "{out}"]), "out");
        failures.extend(check(&p, &o, &left, &path, None));
    }
    assert!(n >= 1);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
