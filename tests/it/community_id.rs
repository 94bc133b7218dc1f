//! `connections[].community_id` against tshark's `communityid` dissector (an independent
//! implementation) on real captures: IPv4 and IPv6, loopback, VLAN and SLL links.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

fn tshark_ids(file: &Path) -> Option<HashMap<u64, String>> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args([
            "--enable-protocol",
            "communityid",
            "-T",
            "fields",
            "-e",
            "tcp.stream",
            "-e",
            "communityid",
        ])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let mut m = HashMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if let Some((s, id)) = line.split_once('\t')
            && let Ok(s) = s.parse()
            && !id.is_empty()
        {
            m.insert(s, id.to_string());
        }
    }
    Some(m)
}

#[test]
fn community_ids_are_tsharks() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let mut compared = 0;
    for name in [
        "http-proxy-chain.pcap",
        "http-ipv6.pcap",
        "http-vlan.pcap",
        "http-sll2.pcap",
        "websocket-nginx-ok.pcap",
    ] {
        let file = dir.join(name);
        let Some(expected) = tshark_ids(&file) else {
            eprintln!("tshark is not installed: skipped (.ci/run installs it)");
            return;
        };
        assert!(!expected.is_empty(), "{name}: tshark gave no community id");
        let out = Command::new(env!("CARGO_BIN_EXE_hopscope"))
            .arg("report")
            .arg(&file)
            .output()
            .expect("run");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        for c in v["connections"].as_array().expect("connections") {
            let id = c["id"].as_u64().expect("id");
            let ours = c["community_id"].as_str().expect("community_id");
            assert_eq!(
                Some(&ours.to_string()),
                expected.get(&id),
                "{name} connection {id}"
            );
            compared += 1;
        }
    }
    assert!(compared >= 10, "{compared}");
}
