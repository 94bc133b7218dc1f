use super::*;
use crate::model::Endpoint;

fn conn(id: u64, port: u16, first: u64, last: u64) -> ConnectionRecord {
    use crate::model::{CloseKind, DirStats};
    ConnectionRecord {
        id,
        client: Endpoint {
            ip: "10.0.0.1".parse().expect("ip"),
            port,
        },
        server: Endpoint {
            ip: "10.0.0.2".parse().expect("ip"),
            port: 80,
        },
        community_id: String::new(),
        client_reason: String::new(),
        start: crate::base::Timestamp(0),
        end: crate::base::Timestamp(0),
        first_packet: first,
        last_packet: last,
        files: Vec::new(),
        also_seen_in: Vec::new(),
        handshake: true,
        handshake_s: None,
        close: CloseKind::Reused,
        client_isn: None,
        server_isn: None,
        client_to_server: DirStats::default(),
        server_to_client: DirStats::default(),
        tls: None,
    }
}

#[test]
fn a_kept_hop_brings_its_other_leg_whether_it_closed_before_or_after() {
    let mut c = Chosen::default();
    // Leg 1 closed before the hop was decided: remembered in front of the filter.
    c.saw(&conn(1, 1001, 1, 10));
    c.kept(&Record::Connection(Box::new(conn(0, 1000, 1, 9))));
    c.legs([0, 1].into_iter());
    assert_eq!(c.connections(), 2);
    // Leg 3 closes after the hop.
    c.legs([2, 3].into_iter());
    assert_eq!(c.legs_missing(), 2);
    c.saw(&conn(3, 1003, 11, 20));
    c.kept(&Record::Connection(Box::new(conn(2, 1002, 11, 19))));
    assert_eq!(c.legs_missing(), 0);
    assert_eq!(c.connections(), 4);
    // A connection neither kept nor a leg is not chosen.
    c.saw(&conn(4, 1004, 21, 30));
    assert_eq!(c.connections(), 4);
    assert!(!c.conns.contains_key(&4));
}

#[test]
fn only_the_latest_connections_are_remembered() {
    let mut c = Chosen::default();
    for id in 0..(RECENT as u64 + 10) {
        c.saw(&conn(id, 1, id, id));
    }
    assert_eq!(c.recent.len(), RECENT);
    c.legs([0, RECENT as u64 + 5].into_iter());
    // Leg 0 was forgotten; the other is known.
    assert_eq!(c.legs_missing(), 1);
    assert!(c.conns.contains_key(&(RECENT as u64 + 5)));
}

#[test]
fn the_random_of_decrypted_tls_only() {
    let mut t = TlsInfo {
        client_random: Some("0a".repeat(32)),
        decrypted: true,
        ..TlsInfo::default()
    };
    assert_eq!(decrypted_random(Some(&t)), Some([0x0a; 32]));
    t.decrypted = false;
    assert_eq!(decrypted_random(Some(&t)), None);
    t.decrypted = true;
    for bad in [
        "0a",
        "zz".repeat(32).as_str(),
        &"é".repeat(32),
        &"0a".repeat(33),
    ] {
        t.client_random = Some(bad.to_string());
        assert_eq!(decrypted_random(Some(&t)), None, "{bad}");
    }
}

#[test]
fn held_fragments_are_bounded_and_taken_by_datagram() {
    let key = crate::decode::test_frag_key;
    let data = vec![0u8; 1 << 20];
    let view = PacketView {
        ts: crate::base::Timestamp(1),
        link: LinkType::ETHERNET,
        data: &data,
        orig_len: data.len() as u32,
        interface: 0,
        file: 3,
    };
    let mut p = Pending::default();
    p.hold(key(1), &view);
    p.hold(key(2), &view);
    p.hold(key(1), &view);
    let got = p.take(&key(1));
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|(file, _)| *file == 3));
    assert_eq!(p.bytes, 1 << 20);
    for _ in 0..6 {
        p.hold(key(9), &view);
    }
    assert!(p.bytes <= MAX_PENDING_BYTES);
    assert_eq!(p.dropped, 3);
}

#[test]
fn a_chain_of_proxies_is_followed_from_one_kept_leg_to_both_ends() {
    // client -0-> proxy 1 -1-> proxy 2 -2-> server; and an unrelated hop 3 -> 4.
    let mut c = Chosen::default();
    for id in 0..5 {
        c.saw(&conn(id, 1000 + id as u16, id * 10, id * 10 + 9));
    }
    c.saw_hop(1, 2);
    c.saw_hop(3, 4);
    // The filter kept the middle leg's hop with the client leg, arriving after the others.
    c.saw_hop(0, 1);
    c.kept(&Record::Connection(Box::new(conn(0, 1000, 0, 9))));
    c.legs([0, 1].into_iter());
    let mut ids: Vec<u64> = c.conns.keys().copied().collect();
    ids.sort();
    assert_eq!(ids, [0, 1, 2]);
    assert_eq!(c.legs_missing(), 0);
    // A hop seen after its leg was chosen is followed too.
    c.saw(&conn(7, 1007, 70, 79));
    c.saw_hop(2, 7);
    assert!(c.conns.contains_key(&7));
    assert!(!c.conns.contains_key(&3) && !c.conns.contains_key(&4));
}
