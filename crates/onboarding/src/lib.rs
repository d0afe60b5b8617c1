//! From a welcome e-mail to a provisioned account: deployment links, QR payloads, authentication codes, discovery, provisioning documents and OIDC sign-in in the system browser.
