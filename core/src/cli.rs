//! The `oatk` command line: the original's chain syntax. Steps run left to
//! right on one [`Toolkit`]; the value of the last step is printed.
//!
//! `oatk with_private private_key.pem with_jwks certs.json claims '{"hello":"world"}' token`

use std::io::Write;

use serde_json::Value;

use crate::error::{Error, ErrorKind, Result};
use crate::key::{self, Algorithm, PrivateKey};
use crate::toolkit::{self, Toolkit};

pub const USAGE: &str = "\
oatk: an OAuth toolkit. Mint and validate JWTs, publish JWKS, run a fake OAuth server.

Usage: oatk STEP [ARG] [STEP [ARG]]...

Steps run left to right on one toolkit; the last step's value is printed.

Keys and key sets:
  with_private FILE        sign with this private key PEM (RSA, EC P-256/P-384, Ed25519)
  with_public FILE         trust this public key PEM
  with_jwks FILE|JSON      publish and trust this JSON Web Key Set
  using_provider URL       trust an OpenID provider's keys (discovery + jwks_uri)
  with_client_id ID        require tokens to carry this audience (aud)
  with_issuer ISS          require tokens to carry this issuer (iss)
  with_algorithm ALG       sign with ALG (RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 EdDSA)
  keys generate [--alg ALG] [--bits N] [--out DIR] [--force]
                           write private_key.pem and public_key.pem (default RS256, 2048, .)

Tokens:
  claims JSON              the claims to mint
  token                    print a token for those claims
  from_file FILE           read the token to work on from FILE
  from_clipboard           ... from the clipboard (a leading 'Bearer ' is dropped)
  from_stdin               ... from standard input
  validate                 verify it: no output and exit 0 when valid, the reason and exit 1 when not
  decode                   print its claims, one 'name: value' line each (not verified)
  header                   print its header, the same way (not verified)
  jwks                     print the JSON Web Key Set

Other:
  server run [--help]      run the fake OAuth2 / OpenID Connect server
  version                  print the version
  help, --help             this text

Examples:
  oatk keys generate
  oatk with_public public_key.pem jwks | tee certs.json
  oatk with_private private_key.pem with_jwks certs.json claims '{ \"hello\" : \"world\" }' token | tee token.txt
  oatk with_jwks certs.json from_file token.txt validate
  oatk from_file token.txt decode
  oatk with_private private_key.pem with_jwks certs.json server run
";

/// What a step leaves behind to print.
enum Output {
    Nothing,
    Text(String),
    Lines(crate::Claims),
}

/// Run the command line; returns the process exit code
/// (0 ok, 1 the operation failed, 2 bad usage).
pub fn run(args: &[String]) -> i32 {
    let mut stdout = std::io::stdout().lock();
    match execute(args, &mut stdout) {
        Ok(()) => 0,
        Err(Failure::Usage(message)) => {
            eprintln!("oatk: {}\n\n{USAGE}", terminal_safe(&message));
            2
        }
        Err(Failure::Failed(error)) => {
            eprintln!("oatk: {}", terminal_safe(error.message()));
            1
        }
    }
}

enum Failure {
    Usage(String),
    Failed(Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::Failed(e)
    }
}

fn execute(args: &[String], out: &mut dyn Write) -> std::result::Result<(), Failure> {
    if args.is_empty() {
        return Err(Failure::Usage("no step given".into()));
    }
    let mut toolkit = Toolkit::new();
    let mut output = Output::Nothing;
    let mut rest = args;
    while let Some((step, tail)) = rest.split_first() {
        rest = tail;
        match run_step(&mut toolkit, step, &mut rest, out)? {
            Flow::Next(value) => output = value,
            Flow::Done => return Ok(()),
        }
    }
    print(out, output).map_err(|e| {
        Failure::Failed(Error::new(
            ErrorKind::Io,
            format!("cannot write output: {e}"),
        ))
    })
}

/// What the chain does after a step.
enum Flow {
    /// Go on; this is the step's value, printed if it is the last.
    Next(Output),
    /// Stop here, printing nothing more (a help text was written).
    Done,
}

/// The next argument, which the step needs as its value.
fn take_arg(step: &str, rest: &mut &[String], name: &str) -> std::result::Result<String, Failure> {
    let (value, tail) = rest
        .split_first()
        .ok_or_else(|| Failure::Usage(format!("{step} needs {name}")))?;
    *rest = tail;
    Ok(value.clone())
}

/// Run one step on the toolkit, taking its arguments from `rest`.
fn run_step(
    toolkit: &mut Toolkit,
    step: &str,
    rest: &mut &[String],
    out: &mut dyn Write,
) -> std::result::Result<Flow, Failure> {
    let mut arg = |name: &str| take_arg(step, rest, name);
    let mut output = Output::Nothing;
    match step {
        "help" | "--help" | "-h" => {
            let _ = out.write_all(USAGE.as_bytes());
            return Ok(Flow::Done);
        }
        "version" | "--version" | "-V" => output = Output::Text(toolkit::VERSION.to_string()),
        "with_private" => drop(toolkit.with_private(arg("a private key file")?)?),
        "with_public" => drop(toolkit.with_public(arg("a public key file")?)?),
        "with_jwks" => drop(toolkit.with_jwks(&arg("a JWKS file or JSON text")?)?),
        "using_provider" => drop(toolkit.using_provider(&arg("a provider URL")?)?),
        "with_client_id" => drop(toolkit.with_client_id(&arg("a client id")?)),
        "with_issuer" => drop(toolkit.with_issuer(&arg("an issuer")?)),
        "with_algorithm" => with_algorithm(toolkit, &arg("an algorithm")?)?,
        "from_file" => drop(toolkit.from_file(arg("a token file")?)?),
        "from_clipboard" => drop(toolkit.from_clipboard()?),
        "from_stdin" => drop(toolkit.from_stdin()?),
        "claims" => drop(toolkit.claims_json(&arg("claims as a JSON object")?)?),
        "token" => output = Output::Text(signed_token(toolkit)?),
        "jwks" => output = Output::Text(toolkit.jwks()?),
        "validate" => drop(toolkit.validate(None)?),
        "decode" => output = Output::Lines(toolkit.decode(None)?),
        "header" => output = Output::Lines(toolkit.header(None)?),
        "keys" => {
            let sub = arg("a subcommand (generate)")?;
            if sub != "generate" {
                return Err(Failure::Usage(format!("unknown keys subcommand {sub:?}")));
            }
            output = Output::Text(generate_keys(std::mem::take(rest))?);
        }
        "server" => {
            let sub = arg("a subcommand (run)")?;
            return server_step(toolkit, &sub, std::mem::take(rest), out);
        }
        other => return Err(Failure::Usage(format!("unknown step {other:?}"))),
    }
    Ok(Flow::Next(output))
}

/// `with_algorithm ALG`: an unknown name is a usage error.
fn with_algorithm(toolkit: &mut Toolkit, name: &str) -> std::result::Result<(), Failure> {
    let alg = name
        .parse::<Algorithm>()
        .map_err(|e| Failure::Usage(e.to_string()))?;
    toolkit.with_algorithm(alg)?;
    Ok(())
}

/// `token`: the claims, signed; an error without a private key.
fn signed_token(toolkit: &Toolkit) -> Result<String> {
    toolkit.token()?.ok_or_else(|| {
        Error::new(
            ErrorKind::Key,
            "no private key to sign with: add with_private FILE before token",
        )
    })
}

/// `server SUB [OPTIONS]`: only `run`, which takes the rest of the line.
fn server_step(
    toolkit: &Toolkit,
    sub: &str,
    options: &[String],
    out: &mut dyn Write,
) -> std::result::Result<Flow, Failure> {
    if sub != "run" {
        return Err(Failure::Usage(format!("unknown server subcommand {sub:?}")));
    }
    let options = crate::server::cli::parse(options).map_err(Failure::Usage)?;
    let Some(options) = options else {
        let _ = out.write_all(crate::server::cli::USAGE.as_bytes());
        return Ok(Flow::Done);
    };
    crate::server::cli::run(toolkit, options)?;
    Ok(Flow::Next(Output::Nothing))
}

fn print(out: &mut dyn Write, output: Output) -> std::io::Result<()> {
    match output {
        Output::Nothing => Ok(()),
        Output::Text(text) => writeln!(out, "{text}"),
        Output::Lines(map) => {
            for (name, value) in map {
                let name = terminal_safe(&name);
                match value {
                    Value::String(s) => writeln!(out, "{name}: {}", terminal_safe(&s))?,
                    // JSON text: control characters are already \u escapes.
                    other => writeln!(out, "{name}: {other}")?,
                }
            }
            Ok(())
        }
    }
}

/// Text from a token (a claim, a `crit` name, an error quoting one) as the
/// terminal may see it: control characters, which could move the cursor,
/// retitle the window or set the clipboard (OSC 52), are shown escaped.
pub fn terminal_safe(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return text.into();
    }
    text.chars()
        .map(|c| match c {
            '\n' => "\\n".to_string(),
            '\t' => "\\t".to_string(),
            '\r' => "\\r".to_string(),
            c if c.is_control() => c.escape_unicode().to_string(),
            c => c.to_string(),
        })
        .collect::<String>()
        .into()
}

fn generate_keys(args: &[String]) -> Result<String> {
    let mut alg = Algorithm::RS256;
    let mut bits = None;
    let mut dir = std::path::PathBuf::from(".");
    let mut force = false;
    let mut iter = args.iter();
    while let Some(flag) = iter.next() {
        let mut value = || {
            iter.next()
                .cloned()
                .ok_or_else(|| Error::invalid_argument(format!("{flag} needs a value")))
        };
        match flag.as_str() {
            "--alg" => {
                let name = value()?;
                alg = name.parse()?;
            }
            "--bits" => {
                let text = value()?;
                bits = Some(text.parse().map_err(|_| {
                    Error::invalid_argument(format!("--bits {text:?} is not a number"))
                })?);
            }
            "--out" => dir = value()?.into(),
            "--force" => force = true,
            other => {
                return Err(Error::invalid_argument(format!(
                    "unknown option {other:?} for keys generate"
                )))
            }
        }
    }
    let private_path = dir.join("private_key.pem");
    if private_path.exists() && !force {
        return Err(Error::new(
            ErrorKind::Io,
            format!(
                "{} exists; not overwriting a private key (use --force)",
                private_path.display()
            ),
        ));
    }
    let key = PrivateKey::generate(alg, bits)?;
    let (private_path, public_path) = key::write_pair(&key, &dir)?;
    Ok(format!(
        "wrote {} and {}",
        private_path.display(),
        public_path.display()
    ))
}
