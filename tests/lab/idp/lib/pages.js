// The identity provider's pages: plain HTML forms without scripts or external resources, with
// stable ids and names so tests (and later browser tests) can drive them.

export function esc(value) {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function layout(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} · Sidetone Lab sign-in</title>
<style>
body{font-family:system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem;color:#1b1b1f}
label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.45rem;box-sizing:border-box}
button{margin-top:1rem;padding:.5rem 1rem}.error{color:#a4161a;font-weight:600}
.hint{color:#555;font-size:.9rem}
</style>
</head>
<body>
<main>
<h1>${esc(title)}</h1>
${body}
</main>
</body>
</html>
`;
}

function errorBlock(error) {
  return error ? `<p class="error" id="error" role="alert">${esc(error)}</p>` : '';
}

export function loginPage({ uid, clientName, login, error, resetUrl }) {
  return layout('Sign in', `
<p class="hint">to continue to ${esc(clientName)}</p>
${errorBlock(error)}
<form id="login-form" method="post" action="/interaction/${esc(uid)}/login" autocomplete="on">
<label for="login">Username</label>
<input id="login" name="login" type="text" autocomplete="username" value="${esc(login)}" required autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button id="submit" type="submit">Sign in</button>
</form>
<p><a id="forgot-password" href="${esc(resetUrl)}">Forgot password?</a></p>
<form id="abort-form" method="post" action="/interaction/${esc(uid)}/abort">
<button id="abort" type="submit">Cancel</button>
</form>`);
}

export function totpPage({ uid, error }) {
  return layout('Enter your code', `
<p class="hint">Open your authenticator app and enter the 6-digit code for Sidetone Lab.</p>
${errorBlock(error)}
<form id="totp-form" method="post" action="/interaction/${esc(uid)}/totp" autocomplete="off">
<label for="code">6-digit code</label>
<input id="code" name="code" type="text" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" autocomplete="one-time-code" required autofocus>
<button id="submit" type="submit">Verify</button>
</form>`);
}

export function changePasswordPage({ uid, error, reason }) {
  return layout('Change your password', `
<p class="hint">${esc(reason)}</p>
${errorBlock(error)}
<form id="change-password-form" method="post" action="/interaction/${esc(uid)}/password" autocomplete="off">
<label for="new_password">New password</label>
<input id="new_password" name="new_password" type="password" autocomplete="new-password" minlength="8" required autofocus>
<label for="confirm_password">New password again</label>
<input id="confirm_password" name="confirm_password" type="password" autocomplete="new-password" minlength="8" required>
<button id="submit" type="submit">Change password</button>
</form>`);
}

export function messagePage(title, text, id = 'message') {
  return layout(title, `<p id="${esc(id)}">${esc(text)}</p>`);
}

export function errorPage(out) {
  return layout('Something went wrong', Object.entries(out)
    .map(([key, value]) => `<p><strong>${esc(key)}</strong>: <span class="${esc(key)}">${esc(value)}</span></p>`)
    .join('\n'));
}
