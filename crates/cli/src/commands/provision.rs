//! `sidetone-cli provision` and `sidetone-cli login`: what a link, code, QR image or login id
//! would set up, signing in with a one-time token, a password (stdin) or single sign-on in
//! the browser.
//!
//! Prints the host it contacts, then the provider and the accounts of the document. Saving
//! (vault, store, engine) is not done here yet: secrets are counted, never printed.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use sidetone_onboarding::{
    Authentication, Deployment, FetchOutcome, LoginId, OnboardingError, PastedInput,
    ProvisioningClient, SSO_WAIT, SecretString, SignInMethod, SsoRequest, Url, ValidatedDocument,
    decode_qr_image, open_in_browser, parse_input,
};

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
    /// The login id or e-mail address (`jane@acme.example`).
    #[arg(long)]
    user: String,
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
}

/// Runs `login --user ID`: the same as `provision ID`.
/// Unlike `provision`, which may stop at showing the accounts it found, `login` fails when it
/// did not sign in (several accounts and no `--account`, or a password account without
/// `--password-stdin`), saying what is missing.
pub fn run_login(args: LoginArgs) -> ExitCode {
    let provision = ProvisionArgs {
        input: args.user,
        options: args.options,
    };
    run_as(&provision, true)
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
    match runtime.block_on(run_inner(&provision.input, args)) {
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
        Err(Failure::Other(message)) => fail(&message, None, args.json),
    }
}

enum Failure {
    Onboarding(OnboardingError),
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

async fn run_inner(input: &str, args: &SignInOptions) -> Result<serde_json::Value, Failure> {
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
) -> Result<serde_json::Value, Failure> {
    let host = deployment.display_host();
    eprintln!("Setting up your phone with {host}");
    if let Some(token) = deployment.token.clone() {
        let auth = Authentication::Token(token);
        let outcome = client.fetch(&deployment.provisioning_url, &auth).await?;
        return finish(client, outcome, &auth, &host, args).await;
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
) -> Result<serde_json::Value, Failure> {
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
        let auth = sign_in_sso(client, login, account.issuer.clone(), args).await?;
        let outcome = client.fetch(&account.href, &auth).await?;
        return finish(client, outcome, &auth, &host, args).await;
    }
    let (Some(account), true) = (chosen, args.password_stdin) else {
        return Ok(serde_json::json!({
            "login_id": login.login_id, "issuer": found.issuer.map(|u| u.to_string()),
            "accounts_located": accounts,
            "next": if chosen.is_none() && found.accounts.len() > 1 {
                "several accounts: pick one with --account NUMBER"
            } else {
                "sign in with --password-stdin to fetch the document"
            },
        }));
    };
    let auth = Authentication::Password {
        login_id: login.login_id.clone(),
        password: read_password()?,
    };
    let outcome = client.fetch(&account.href, &auth).await?;
    finish(client, outcome, &auth, &host, args).await
}

async fn finish(
    client: &ProvisioningClient,
    outcome: FetchOutcome,
    auth: &Authentication,
    host: &str,
    args: &SignInOptions,
) -> Result<serde_json::Value, Failure> {
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
                return Ok(serde_json::json!({
                    "host": host, "accounts_located": list,
                    "next": "several accounts: pick one with --account NUMBER",
                }));
            };
            match client.fetch(&choice.href, auth).await? {
                FetchOutcome::Document(document) => document,
                _ => return Err(Failure::Other("the server asked to choose again".into())),
            }
        }
        _ => return Err(Failure::Other("unexpected answer".into())),
    };
    Ok(summary(&document, host))
}

/// Signs in at `issuer` in the browser; the URL is printed too (a browser may not open).
async fn sign_in_sso(
    client: &ProvisioningClient,
    login: &LoginId,
    issuer: Option<Url>,
    args: &SignInOptions,
) -> Result<Authentication, Failure> {
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
    Ok(tokens.bearer())
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
        println!(
            "Secrets:  {} (to the keychain; not saved by this command)",
            report["secrets"]
        );
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
