//! `sidetone-cli provision` and `sidetone-cli login`: what a link, code, QR image or login id
//! would set up, signing in with a one-time token, a password (stdin) or single sign-on in
//! the browser.
//!
//! Prints the host it contacts, then the provider and the accounts of the document, and saves
//! them as the app does (see `activate`): terms accepted, secrets in the keychain, each line
//! registered once, the accounts in the profile. `--dry-run` only shows. Secrets are counted,
//! never printed.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use sidetone_onboarding::{
    Authentication, Deployment, ExposeSecret, FetchOutcome, LoginId, OnboardingError, PastedInput,
    ProvisioningClient, SSO_WAIT, SecretString, SignInMethod, SsoRequest, SsoTokens, Url,
    ValidatedDocument, decode_qr_image, open_in_browser, parse_input,
};
use sidetone_profile::SignInMethod as SavedMethod;
use sidetone_sip::Password;

use crate::commands::activate::{self, Fetched, SsoSaved, TermsAnswer};
use crate::commands::cli_error::CliError;
use crate::commands::manual_login::{self, ManualLogin};
use crate::commands::profile_args::ProfileArgs;

/// Shows what a deployment link, authentication code, QR image or login id would add.
#[derive(Debug, Args)]
pub struct ProvisionArgs {
    /// A `sidetone://provision?…` link, an authentication code, a login id
    /// (`jane@acme.example`), or the path of a PNG/JPEG image with a QR code.
    input: String,
    #[command(flatten)]
    options: SignInOptions,
}

/// Signs in with a login id: password (stdin) or single sign-on in the browser, as the
/// provider's discovery says.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The login id or e-mail address (`jane@acme.example`); with --sip (or a plain ID and
    /// --server), the SIP login ID (`1001`, or `1001@sip.domain`).
    #[arg(long)]
    user: String,
    /// Manual login: register at the SIP server --server directly, without provisioning
    /// (the transports its DNS offers by NAPTR/SRV, TLS first, else TLS, then TCP, then UDP;
    /// password from --password-stdin). Implied by --server with a login ID that has no `@`.
    #[arg(long)]
    sip: bool,
    #[command(flatten)]
    options: SignInOptions,
}

/// How `provision` and `login` sign in and what they print.
#[derive(Debug, Args)]
pub struct SignInOptions {
    /// Read the password from stdin (one line) and fetch the document with it.
    #[arg(long)]
    password_stdin: bool,
    /// Also trust the CA certificates in this PEM file (e.g. the lab CA).
    #[arg(long, value_name = "PEM")]
    ca_file: Option<PathBuf>,
    /// Ask this server (`host[:port]`) instead of the login id's domain.
    #[arg(long, value_name = "HOST")]
    server: Option<String>,
    /// Pick this account number when the user has several.
    #[arg(long, value_name = "NUMBER")]
    account: Option<String>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Single sign-on: print the sign-in URL without opening a browser (open it yourself on
    /// this machine; the answer comes back to 127.0.0.1).
    #[arg(long)]
    no_browser: bool,
    /// Only show what the document would set up; save nothing.
    #[arg(long)]
    dry_run: bool,
    /// Do not keep the provider password in the keychain: the document is not refreshed and
    /// you sign in again when the provider changes something.
    #[arg(long)]
    no_stay_signed_in: bool,
    /// Accept the provider's licence and emergency-calling terms (printed first).
    #[arg(long)]
    accept_terms: bool,
    /// Your address for emergency calls, when the provider asks for one:
    /// "street; unit; city; region; postal code; country" (the unit may be empty).
    #[arg(long, value_name = "ADDRESS", value_parser = activate::parse_emergency_address)]
    emergency_address: Option<sidetone_profile::terms::EmergencyAddress>,
    #[command(flatten)]
    profile: ProfileArgs,
}

/// What a sign-in ended with: a document to save, or something to tell the user.
enum Outcome {
    /// A document was fetched.
    Fetched(Box<Fetched>),
    /// Nothing fetched (accounts to pick, a password to give): this report says so.
    Report(serde_json::Value),
}

/// Runs `login --user ID`: the same as `provision ID`.
/// Unlike `provision`, which may stop at showing the accounts it found, `login` fails when it
/// did not sign in (several accounts and no `--account`, or a password account without
/// `--password-stdin`), saying what is missing.
pub fn run_login(args: LoginArgs) -> ExitCode {
    if args.sip || (args.options.server.is_some() && !args.user.contains('@')) {
        return run_manual(&args);
    }
    let provision = ProvisionArgs {
        input: args.user,
        options: args.options,
    };
    run_as(&provision, true)
}

/// The manual login (see `manual_login`).
fn run_manual(args: &LoginArgs) -> ExitCode {
    let options = &args.options;
    let incomplete = |what: &str| fail(what, Some("cli.sign_in_incomplete"), options.json);
    let Some(server) = options.server.as_deref() else {
        return incomplete("a manual login needs the SIP server: --server HOST");
    };
    if !options.password_stdin {
        return incomplete("a manual login needs the password: --password-stdin");
    }
    if options.dry_run {
        return incomplete("a manual login has nothing to show without signing in");
    }
    let password = match read_password() {
        Ok(password) => Password::new(password.expose_secret().to_owned()),
        Err(Failure::Other(message)) => return fail(&message, None, options.json),
        Err(_) => return fail("cannot read the password", None, options.json),
    };
    let manual = ManualLogin {
        server,
        login_id: &args.user,
        password,
        ca_file: options.ca_file.as_deref(),
    };
    match manual_login::login(manual, &options.profile) {
        Ok(report) => {
            if options.json {
                println!("{report}");
            } else {
                let line = &report["saved"][0];
                println!(
                    "Saved:    {} (registered over {})",
                    line["id"].as_str().unwrap_or_default(),
                    line["transport"].as_str().unwrap_or_default()
                );
            }
            ExitCode::SUCCESS
        }
        Err(error) => error.report(options.json),
    }
}

/// Runs the command; exit code 0 on success, 1 with `code: message` otherwise.
pub fn run(provision: ProvisionArgs) -> ExitCode {
    run_as(&provision, false)
}

fn run_as(provision: &ProvisionArgs, must_sign_in: bool) -> ExitCode {
    let args = &provision.options;
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return fail(&format!("cannot start: {e}"), None, args.json),
    };
    let outcome = runtime.block_on(run_inner(&provision.input, args));
    // The engine started by saving has a runtime of its own: not inside this one.
    drop(runtime);
    let report = match outcome {
        Ok(Outcome::Fetched(fetched)) => save(*fetched, args),
        Ok(Outcome::Report(report)) => Ok(report),
        Err(error) => Err(error),
    };
    match report {
        Ok(report) if must_sign_in && report["provider"].is_null() => fail(
            report["next"].as_str().unwrap_or("not signed in"),
            Some("cli.sign_in_incomplete"),
            args.json,
        ),
        Ok(report) => {
            if args.json {
                println!("{report}");
            } else {
                print_text(&report);
            }
            ExitCode::SUCCESS
        }
        Err(Failure::Onboarding(e)) => fail(&e.to_string(), Some(&e.code()), args.json),
        Err(Failure::Saving(e)) => fail(&e.message, Some(e.code), args.json),
        Err(Failure::Other(message)) => fail(&message, None, args.json),
    }
}

/// The document's summary, with what was saved of it (nothing with `--dry-run`).
fn save(fetched: Fetched, args: &SignInOptions) -> Result<serde_json::Value, Failure> {
    let mut report = summary(&fetched.document, &fetched.host);
    if args.dry_run {
        report["saved"] = serde_json::Value::Array(Vec::new());
        return Ok(report);
    }
    let answer = TermsAnswer {
        accepted: args.accept_terms,
        emergency_address: args.emergency_address.clone(),
    };
    let saved = activate::activate(fetched, &args.profile, &answer).map_err(Failure::Saving)?;
    report["saved"] = serde_json::Value::Array(saved);
    Ok(report)
}

enum Failure {
    Onboarding(OnboardingError),
    Saving(CliError),
    Other(String),
}

impl From<OnboardingError> for Failure {
    fn from(e: OnboardingError) -> Self {
        Self::Onboarding(e)
    }
}

fn fail(message: &str, code: Option<&str>, json: bool) -> ExitCode {
    if json {
        println!(
            "{}",
            serde_json::json!({ "error": { "code": code, "message": message } })
        );
    } else {
        match code {
            Some(code) => eprintln!("sidetone-cli: {code}: {message}"),
            None => eprintln!("sidetone-cli: {message}"),
        }
    }
    ExitCode::FAILURE
}

async fn run_inner(input: &str, args: &SignInOptions) -> Result<Outcome, Failure> {
    let ca = match &args.ca_file {
        Some(path) => Some(
            std::fs::read(path).map_err(|e| Failure::Other(format!("{}: {e}", path.display())))?,
        ),
        None => None,
    };
    let client = ProvisioningClient::new(ca.as_deref())?;
    let image = PathBuf::from(input);
    let is_image = image.extension().is_some_and(|x| {
        ["png", "jpg", "jpeg"]
            .iter()
            .any(|e| x.eq_ignore_ascii_case(e))
    }) && image.is_file();
    let input = if is_image {
        let bytes = std::fs::read(&image)
            .map_err(|e| Failure::Other(format!("{}: {e}", image.display())))?;
        PastedInput::Link(decode_qr_image(&bytes)?.deployment)
    } else {
        parse_input(input)?
    };
    match input {
        PastedInput::Link(deployment) | PastedInput::Code(deployment) => {
            from_deployment(&client, deployment, args).await
        }
        PastedInput::LoginId(login) => {
            from_login(&client, &login, args.server.as_deref(), args).await
        }
        _ => Err(Failure::Other("unsupported input".into())),
    }
}

async fn from_deployment(
    client: &ProvisioningClient,
    deployment: Deployment,
    args: &SignInOptions,
) -> Result<Outcome, Failure> {
    let host = deployment.display_host();
    eprintln!("Setting up your phone with {host}");
    if deployment.token.is_some()
        && !args.dry_run
        && !args.accept_terms
        && !std::io::stdin().is_terminal()
    {
        // Nobody can be asked once the one-time token is spent: say so before spending it.
        return Err(Failure::Saving(CliError::new(
            "cli.terms_required",
            "a one-time link works once and nobody can be asked here: pass --accept-terms to \
             accept the provider's terms (printed before anything is saved), or --dry-run",
        )));
    }
    if let Some(token) = deployment.token.clone() {
        let auth = Authentication::Token(token);
        let outcome = client.fetch(&deployment.provisioning_url, &auth).await?;
        let signed_in = SignedIn {
            auth,
            method: SavedMethod::Token,
            sso: None,
        };
        return finish(client, outcome, signed_in, &host, args).await;
    }
    let Some(user) = deployment.user.clone() else {
        return Err(Failure::Other(
            "this link has no token and no user: sign in with your login id".into(),
        ));
    };
    let login = LoginId::parse(&user)?;
    let server = deployment.display_host();
    from_login(client, &login, Some(&server), args).await
}

async fn from_login(
    client: &ProvisioningClient,
    login: &LoginId,
    server: Option<&str>,
    args: &SignInOptions,
) -> Result<Outcome, Failure> {
    let found = client.discover(login, server).await?;
    let accounts: Vec<serde_json::Value> = found
        .accounts
        .iter()
        .map(|a| {
            serde_json::json!({
                "account_number": a.account_number, "title": a.title,
                "host": a.href.host_str(), "sign_in": a.sign_in,
            })
        })
        .collect();
    let chosen = match &args.account {
        Some(number) => found
            .accounts
            .iter()
            .find(|a| a.account_number.as_deref() == Some(number)),
        None if found.accounts.len() == 1 => found.accounts.first(),
        None => None,
    };
    let host = chosen.map_or_else(
        || login.domain.clone(),
        |a| match a.href.port() {
            Some(port) => format!("{}:{port}", a.href.host_str().unwrap_or_default()),
            None => a.href.host_str().unwrap_or_default().to_owned(),
        },
    );
    let sso = chosen.is_some_and(|a| a.sign_in == Some(SignInMethod::Oidc));
    if let (Some(account), true, false) = (chosen, sso, args.password_stdin) {
        let (tokens, client_id) = sign_in_sso(client, login, account.issuer.clone(), args).await?;
        let auth = tokens.bearer();
        let outcome = client.fetch(&account.href, &auth).await?;
        let signed_in = SignedIn {
            auth,
            method: SavedMethod::Sso,
            sso: Some(SsoSaved {
                issuer: tokens.issuer.clone(),
                client_id,
                refresh_token: tokens.refresh_token.clone(),
            }),
        };
        return finish(client, outcome, signed_in, &host, args).await;
    }
    let (Some(account), true) = (chosen, args.password_stdin) else {
        return Ok(Outcome::Report(serde_json::json!({
            "login_id": login.login_id, "issuer": found.issuer.map(|u| u.to_string()),
            "accounts_located": accounts,
            "next": if chosen.is_none() && found.accounts.len() > 1 {
                "several accounts: pick one with --account NUMBER"
            } else {
                "sign in with --password-stdin to fetch the document"
            },
        })));
    };
    let auth = Authentication::Password {
        login_id: login.login_id.clone(),
        password: read_password()?,
    };
    let outcome = client.fetch(&account.href, &auth).await?;
    let signed_in = SignedIn {
        auth,
        method: SavedMethod::Password,
        sso: None,
    };
    finish(client, outcome, signed_in, &host, args).await
}

/// How the user signed in: to fetch again after picking an account, and to save.
struct SignedIn {
    auth: Authentication,
    method: SavedMethod,
    sso: Option<SsoSaved>,
}

async fn finish(
    client: &ProvisioningClient,
    outcome: FetchOutcome,
    signed_in: SignedIn,
    host: &str,
    args: &SignInOptions,
) -> Result<Outcome, Failure> {
    let document = match outcome {
        FetchOutcome::Document(document) => document,
        FetchOutcome::ChooseAccount(choices) => {
            let chosen = args
                .account
                .as_ref()
                .and_then(|n| choices.iter().find(|c| &c.account_number == n));
            let Some(choice) = chosen else {
                let list: Vec<_> = choices
                    .iter()
                    .map(|c| serde_json::json!({ "account_number": c.account_number, "name": c.name }))
                    .collect();
                return Ok(Outcome::Report(serde_json::json!({
                    "host": host, "accounts_located": list,
                    "next": "several accounts: pick one with --account NUMBER",
                })));
            };
            match client.fetch(&choice.href, &signed_in.auth).await? {
                FetchOutcome::Document(document) => document,
                _ => return Err(Failure::Other("the server asked to choose again".into())),
            }
        }
        _ => return Err(Failure::Other("unexpected answer".into())),
    };
    // Staying signed in keeps the provider password for document refreshes; single sign-on
    // keeps its refresh token either way (it is what "signed in" means there).
    let provisioning_password = match &signed_in.auth {
        Authentication::Password { password, .. } if !args.no_stay_signed_in => {
            Some(password.clone())
        }
        _ => None,
    };
    Ok(Outcome::Fetched(Box::new(Fetched {
        document: *document,
        host: host.to_owned(),
        method: signed_in.method,
        sso: signed_in.sso,
        provisioning_password,
    })))
}

/// Signs in at `issuer` in the browser; the URL is printed too (a browser may not open).
/// Returns the tokens and the client id used.
async fn sign_in_sso(
    client: &ProvisioningClient,
    login: &LoginId,
    issuer: Option<Url>,
    args: &SignInOptions,
) -> Result<(SsoTokens, String), Failure> {
    let issuer = issuer.ok_or_else(|| {
        Failure::Other("the provider named no single sign-on issuer for this account".into())
    })?;
    let mut request = SsoRequest::new(issuer);
    request.login_hint = Some(login.login_id.clone());
    let attempt = client.start_sso(&request).await?;
    eprintln!(
        "Sign in with your company account in your browser:\n  {}",
        attempt.authorize_url()
    );
    if !args.no_browser
        && let Err(e) = open_in_browser(attempt.authorize_url())
    {
        eprintln!("(no browser opened: {e}; open the address above on this computer)");
    }
    let tokens = attempt.complete(SSO_WAIT).await?;
    eprintln!("Signed in.");
    Ok((tokens, request.client_id))
}

fn summary(validated: &ValidatedDocument, host: &str) -> serde_json::Value {
    let doc = &validated.document;
    let accounts: Vec<_> = doc
        .accounts
        .iter()
        .map(|a| {
            serde_json::json!({
                "id": a.id, "display_name": a.display_name, "aor": a.aor,
                "account_number": a.account_number,
                "transports": a.transports.iter().map(|t| t.kind).collect::<Vec<_>>(),
            })
        })
        .collect();
    serde_json::json!({
        "host": host,
        "provider": doc.provider.name,
        "sign_in": doc.sign_in.method,
        "login_id": doc.sign_in.login_id,
        "accounts": accounts,
        "secrets": validated.secrets.0.len(),
        "trusted_cas": validated.trust_anchors.len(),
        "terms": doc.terms.is_some(),
    })
}

fn read_password() -> Result<SecretString, Failure> {
    let mut line = String::new();
    std::io::stdin()
        .read_to_string(&mut line)
        .map_err(|e| Failure::Other(format!("reading the password: {e}")))?;
    let password = line.lines().next().unwrap_or_default().to_owned();
    if password.is_empty() {
        return Err(Failure::Other("no password on stdin".into()));
    }
    Ok(SecretString::from(password))
}

fn print_text(report: &serde_json::Value) {
    if let Some(provider) = report["provider"].as_str() {
        println!(
            "Provider: {provider} ({})",
            report["host"].as_str().unwrap_or_default()
        );
        println!(
            "Sign-in:  {} as {}",
            report["sign_in"],
            report["login_id"].as_str().unwrap_or_default()
        );
        for account in report["accounts"].as_array().into_iter().flatten() {
            println!(
                "Account:  {} <{}> {}",
                account["display_name"].as_str().unwrap_or_default(),
                account["aor"].as_str().unwrap_or_default(),
                account["account_number"].as_str().unwrap_or_default()
            );
        }
        let saved = report["saved"].as_array().cloned().unwrap_or_default();
        if saved.is_empty() {
            println!("Secrets:  {} (nothing saved: --dry-run)", report["secrets"]);
        }
        for line in saved {
            println!(
                "Saved:    {}{}",
                line["id"].as_str().unwrap_or_default(),
                if line["registered"] == true {
                    " (registered)"
                } else {
                    " (not registered now: the server did not answer)"
                }
            );
        }
    } else {
        if let Some(list) = report["accounts_located"].as_array() {
            println!("Multiple accounts located:");
            for a in list {
                println!(
                    "  {} {}",
                    a["account_number"].as_str().unwrap_or("-"),
                    a["title"]
                        .as_str()
                        .or(a["name"].as_str())
                        .unwrap_or_default()
                );
            }
        }
        if let Some(next) = report["next"].as_str() {
            println!("{next}");
        }
    }
}
