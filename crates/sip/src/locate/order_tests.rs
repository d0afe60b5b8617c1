//! The RFC 3263 / RFC 2782 ordering against fake records.

use super::order::{order_srv, srv_queries, standard_srv_name, targets};
use super::records::{NaptrRecord, ServerTarget, SrvQuery, SrvRecord};
use crate::Transport;

fn naptr(order: u16, preference: u16, flags: &str, services: &str, to: &str) -> NaptrRecord {
    NaptrRecord {
        order,
        preference,
        flags: flags.into(),
        services: services.into(),
        replacement: to.into(),
    }
}

fn srv(priority: u16, weight: u16, port: u16, target: &str) -> SrvRecord {
    SrvRecord {
        priority,
        weight,
        port,
        target: target.into(),
    }
}

fn names(queries: &[SrvQuery]) -> Vec<(Transport, &str)> {
    queries
        .iter()
        .map(|q| (q.transport, q.name.as_str()))
        .collect()
}

fn hosts(records: &[SrvRecord]) -> Vec<&str> {
    records.iter().map(|r| r.target.as_str()).collect()
}

/// A "random" source that always answers the same end of the range.
fn lowest() -> impl FnMut(u32) -> u32 {
    |_| 0
}

fn highest() -> impl FnMut(u32) -> u32 {
    |total| total
}

#[test]
fn rfc3263_section_4_1_example_gives_tls_then_tcp_then_udp() {
    // The NAPTR records of RFC 3263 §4.1, shuffled: order decides, not the answer's order.
    let records = [
        naptr(100, 50, "s", "SIP+D2U", "_sip._udp.example.com"),
        naptr(50, 50, "s", "SIPS+D2T", "_sips._tcp.example.com"),
        naptr(90, 50, "s", "SIP+D2T", "_sip._tcp.example.com"),
    ];
    assert_eq!(
        names(&srv_queries("example.com", &records)),
        [
            (Transport::Tls, "_sips._tcp.example.com"),
            (Transport::Tcp, "_sip._tcp.example.com"),
            (Transport::Udp, "_sip._udp.example.com"),
        ]
    );
}

#[test]
fn preference_breaks_ties_of_order_and_the_first_record_of_a_transport_wins() {
    let records = [
        naptr(10, 20, "S", "SIP+D2T", "_sip._tcp.b.example.com"),
        naptr(10, 10, "S", "sip+d2t", "_sip._tcp.a.example.com"),
        naptr(10, 30, "S", "SIP+D2U", "_sip._udp.example.com"),
    ];
    assert_eq!(
        names(&srv_queries("example.com", &records)),
        [
            (Transport::Tcp, "_sip._tcp.a.example.com"),
            (Transport::Udp, "_sip._udp.example.com"),
        ]
    );
}

#[test]
fn tls_comes_first_whatever_order_the_naptr_records_give() {
    // A server (or whoever forged the answer) preferring UDP does not push TLS down.
    let records = [
        naptr(10, 10, "s", "SIP+D2U", "_sip._udp.example.com"),
        naptr(20, 10, "s", "SIP+D2T", "_sip._tcp.example.com"),
        naptr(30, 10, "s", "SIPS+D2T", "_sips._tcp.example.com"),
    ];
    let transports: Vec<Transport> = srv_queries("example.com", &records)
        .iter()
        .map(|q| q.transport)
        .collect();
    assert_eq!(transports, [Transport::Tls, Transport::Udp, Transport::Tcp]);
}

#[test]
fn unknown_services_and_flags_are_ignored() {
    let records = [
        naptr(10, 10, "s", "SIP+D2W", "_sip._ws.example.com"),
        naptr(10, 10, "s", "SIP+D2S", "_sip._sctp.example.com"),
        naptr(10, 10, "u", "E2U+sip", "!^.*$!sip:info@example.com!"),
        naptr(10, 10, "a", "SIP+D2T", "sip.example.com"),
        naptr(10, 10, "s", "SIP+D2U", "."),
        naptr(20, 10, "s", "SIP+D2U", "_sip._udp.example.com"),
    ];
    assert_eq!(
        names(&srv_queries("example.com", &records)),
        [(Transport::Udp, "_sip._udp.example.com")]
    );
}

#[test]
fn without_usable_naptr_records_the_three_standard_names_are_asked_tls_first() {
    for records in [vec![], vec![naptr(1, 1, "s", "SIP+D2W", "_sip._ws.x")]] {
        assert_eq!(
            names(&srv_queries("pbx.example.com", &records)),
            [
                (Transport::Tls, "_sips._tcp.pbx.example.com"),
                (Transport::Tcp, "_sip._tcp.pbx.example.com"),
                (Transport::Udp, "_sip._udp.pbx.example.com"),
            ]
        );
    }
    assert_eq!(standard_srv_name(Transport::Wss, "x"), None);
}

#[test]
fn rfc2782_priority_decides_before_weight() {
    let records = [
        srv(20, 100, 5060, "backup.example.com"),
        srv(10, 0, 5060, "main.example.com"),
    ];
    for mut pick in [
        Box::new(lowest()) as Box<dyn FnMut(u32) -> u32>,
        Box::new(highest()),
    ] {
        assert_eq!(
            hosts(&order_srv(&records, &mut pick)),
            ["main.example.com", "backup.example.com"]
        );
    }
}

#[test]
fn rfc3263_section_4_2_weights_choose_among_equal_priorities() {
    // RFC 3263 §4.2's example: server2 carries twice server1's weight. The running sums are
    // 1 and 3: a draw of 0..=1 picks server1 first, 2..=3 picks server2.
    let records = [
        srv(0, 1, 5060, "server1.example.com"),
        srv(0, 2, 5060, "server2.example.com"),
    ];
    assert_eq!(
        hosts(&order_srv(&records, &mut lowest())),
        ["server1.example.com", "server2.example.com"]
    );
    assert_eq!(
        hosts(&order_srv(&records, &mut highest())),
        ["server2.example.com", "server1.example.com"]
    );
    let mut draws = vec![2u32, 0].into_iter();
    let mut scripted = |total: u32| {
        let draw = draws.next().unwrap_or(0);
        assert!(draw <= total);
        draw
    };
    assert_eq!(
        hosts(&order_srv(&records, &mut scripted))[0],
        "server2.example.com"
    );
}

#[test]
fn weight_zero_is_picked_last_unless_the_draw_is_zero_and_ties_keep_the_answer_order() {
    let records = [
        srv(0, 5, 5060, "heavy.example.com"),
        srv(0, 0, 5060, "zero.example.com"),
    ];
    // Weight 0 goes first in the running sum: only a draw of exactly 0 picks it.
    assert_eq!(
        hosts(&order_srv(&records, &mut highest())),
        ["heavy.example.com", "zero.example.com"]
    );
    assert_eq!(
        hosts(&order_srv(&records, &mut lowest())),
        ["zero.example.com", "heavy.example.com"]
    );
    // All weights 0: the answer's order.
    let ties = [srv(0, 0, 1, "a.example.com"), srv(0, 0, 2, "b.example.com")];
    assert_eq!(
        hosts(&order_srv(&ties, &mut highest())),
        ["a.example.com", "b.example.com"]
    );
}

#[test]
fn a_dot_target_means_no_service_and_long_answers_are_cut() {
    assert!(order_srv(&[srv(0, 0, 5060, ".")], &mut lowest()).is_empty());
    assert!(order_srv(&[srv(0, 0, 0, "x.example.com")], &mut lowest()).is_empty());
    let many: Vec<SrvRecord> = (0..50).map(|i| srv(i, 0, 5060, "h.example.com")).collect();
    assert_eq!(
        order_srv(&many, &mut lowest()).len(),
        super::order::MAX_TARGETS_PER_SRV
    );
}

#[test]
fn targets_follow_the_queries_and_skip_a_naptr_pointing_at_a_missing_srv() {
    let queries = srv_queries(
        "example.com",
        &[
            naptr(10, 10, "s", "SIPS+D2T", "_sips._tcp.example.com"),
            naptr(20, 10, "s", "SIP+D2U", "_sip._udp.example.com"),
        ],
    );
    // The SIPS+D2T record points at an SRV name with no records.
    let answers = vec![vec![], vec![srv(0, 0, 5070, "udp.example.com")]];
    assert_eq!(
        targets(&queries, &answers, &mut lowest()),
        [ServerTarget {
            transport: Transport::Udp,
            host: "udp.example.com".into(),
            port: 5070
        }]
    );
    let answers = vec![
        vec![
            srv(1, 0, 5081, "tls2.example.com"),
            srv(0, 0, 5071, "tls1.example.com"),
        ],
        vec![srv(0, 0, 5070, "udp.example.com")],
    ];
    let found: Vec<(Transport, String, u16)> = targets(&queries, &answers, &mut lowest())
        .into_iter()
        .map(|t| (t.transport, t.host, t.port))
        .collect();
    assert_eq!(
        found,
        [
            (Transport::Tls, "tls1.example.com".into(), 5071),
            (Transport::Tls, "tls2.example.com".into(), 5081),
            (Transport::Udp, "udp.example.com".into(), 5070),
        ]
    );
}
