//! The paste box sorts links, codes and login ids; secrets and tokens never leak into Debug.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use sidetone_onboarding::{
    Authentication, DeploymentLink, PastedInput, SecretString, Token, parse_input,
};

#[test]
fn a_link_a_code_and_a_login_id() {
    let PastedInput::Link(link) =
        parse_input("  sidetone://provision?server=pbx.example.com&token=7Q2M0D4K9VXR1H8A\n")
            .unwrap()
    else {
        panic!("a link")
    };
    let PastedInput::Code(code) =
        parse_input("17q2-m0d4-k9vx-r1h8-ae1h-7gbk-5f1g-ptw3-ccmq-66vv-d*").unwrap()
    else {
        panic!("a code")
    };
    assert_eq!(link, code, "a code means the same as its server= link");
    let PastedInput::LoginId(login) = parse_input("Jane.Doe@Acme.Example").unwrap() else {
        panic!("a login id")
    };
    assert_eq!(login.domain, "acme.example");
    assert_eq!(login.login_id, "Jane.Doe@Acme.Example");
    let PastedInput::LoginId(idn) = parse_input("jane@bücher.example").unwrap() else {
        panic!("a login id")
    };
    assert_eq!(idn.domain, "xn--bcher-kva.example");
}

#[test]
fn tokens_and_passwords_stay_out_of_debug_and_errors() {
    let link =
        DeploymentLink::parse("sidetone://provision?server=a.example&token=7Q2M0D4K9VXR1H8A")
            .unwrap();
    assert!(!format!("{link:?}").contains("7Q2M0D4K9VXR1H8A"));
    let auth = Authentication::Password {
        login_id: "jane@a.example".into(),
        password: SecretString::from("hunter2-secret".to_owned()),
    };
    assert!(!format!("{auth:?}").contains("hunter2-secret"));
    let token = Token::parse("7Q2M0D4K9VXR1H8A").unwrap();
    assert!(!format!("{:?}", Authentication::Token(token)).contains("7Q2M0D4K9VXR1H8A"));
    let e = parse_input("sidetone://provision?server=a.example&token=7Q2M0D4K9VXR1H8A-too-long-!")
        .unwrap_err();
    assert!(!e.to_string().contains("7Q2M0D4K9VXR1H8A"), "{e}");
}

#[test]
fn no_panics_on_junk() {
    let mut junk: Vec<String> = vec![
        String::new(),
        "\u{0}".into(),
        "@".into(),
        "@@".into(),
        "sidetone:".into(),
        "sidetone://".into(),
        "sidetone://provision".into(),
        "sidetone://provision?".into(),
        "sidetone://provision?url=".into(),
        "sidetone://provision?server=%FF".into(),
        "sidetone://provision?url=https%3A%2F%2F%5B%3A%3A1".into(),
        "1".repeat(600),
        "-".repeat(5000),
        "é".repeat(3000),
        "1*".into(),
        "sidetone://provision?server=[::1]:99999".into(),
    ];
    for i in 0..=255u8 {
        junk.push(format!(
            "sidetone://provision?server=a{}b&token=7Q2M0D4K9VXR1H8A",
            i as char
        ));
        junk.push(format!("17Q2M0D4K9VXR1H8A{}E1H7GBK", i as char));
    }
    for input in &junk {
        let _ = parse_input(input);
        let _ = DeploymentLink::parse(input);
        let _ = sidetone_onboarding::AuthCode::parse(input);
        let _ = sidetone_onboarding::decode_qr_image(input.as_bytes());
    }
}
