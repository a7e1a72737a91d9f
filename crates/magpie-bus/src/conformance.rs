//! The directory/router conformance suite. Every directory and router pair
//! runs it through [`bus_conformance_suite!`](crate::bus_conformance_suite),
//! on one node and on several nodes sharing a directory, so the in-process
//! pair and a networked one behave the same to the server.
//!
//! Each check takes fresh nodes (one [`Bus`] each, all sharing one
//! directory) and spreads devices over them round-robin, so on two nodes
//! every kick, replacement and multispot also crosses nodes. Absence of a
//! push is checked with a marker: after the operation the check routes a
//! marker envelope to the connection and expects it next, which relies on a
//! router delivering one sender's envelopes to one connection in order.

use crate::{
    AccountKey, Attach, Bus, DeviceAddr, Envelope, KickTarget, LocalDirectory, MemoryNetwork,
    NodeId, OutboxReceiver, Push, SessionDirectory,
};
use magpie_proto::types::{client_type as ct, multispot_type, Kickout, MultiSpot, Presence};
use magpie_store::settings::{Overflow, Policy, Rules};
use magpie_store::AccountId;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// `n` nodes in one process sharing a [`LocalDirectory`] and connected
/// through a [`MemoryNetwork`].
pub fn memory_cluster(n: usize) -> Vec<Bus> {
    let directory: Arc<dyn SessionDirectory> = Arc::new(LocalDirectory::new());
    let net = MemoryNetwork::new();
    (0..n)
        .map(|i| {
            let conns = Arc::new(crate::ConnTable::new(NodeId(i as u64 + 1)));
            Bus {
                router: Arc::new(net.join(conns.clone())),
                directory: directory.clone(),
                conns,
            }
        })
        .collect()
}

/// A test device: its connection and what it says at login.
struct Dev {
    addr: DeviceAddr,
    rx: OutboxReceiver,
    presence: Presence,
    node: usize,
}

fn key(accid: &str) -> AccountKey {
    AccountKey::new(1, AccountId::parse(accid).expect("test accid"))
}

fn dev(nodes: &[Bus], i: usize, accid: &str, device_id: &str, t: u32) -> Dev {
    let node = i % nodes.len();
    let (addr, rx) = nodes[node].conns.open(256);
    Dev {
        addr,
        rx,
        presence: Presence {
            app_account: accid.into(),
            client_type: t,
            device_id: device_id.into(),
            login_time: i as i64,
            ..Default::default()
        },
        node,
    }
}

async fn attach(nodes: &[Bus], d: &Dev, rules: &Rules) -> Attach {
    nodes[d.node]
        .attach(
            &key(&d.presence.app_account),
            d.addr,
            d.presence.clone(),
            rules,
        )
        .await
        .expect("attach")
}

fn admitted(a: Attach) -> (Vec<Presence>, Option<DeviceAddr>, Vec<Presence>) {
    match a {
        Attach::Admitted {
            others,
            replaced,
            kicked,
        } => (
            others,
            replaced,
            kicked.into_iter().map(|s| s.presence).collect(),
        ),
        Attach::Refused => panic!("refused"),
    }
}

async fn next(d: &mut Dev) -> Push {
    tokio::time::timeout(Duration::from_secs(10), d.rx.rx.recv())
        .await
        .unwrap_or_else(|_| panic!("{}: no push in time", d.presence.device_id))
        .expect("queue open")
}

async fn multispot(d: &mut Dev) -> MultiSpot {
    match next(d).await {
        Push::MultiSpot(m) => m,
        other => panic!(
            "{}: expected multispot, got {other:?}",
            d.presence.device_id
        ),
    }
}

async fn kickout(d: &mut Dev) -> Kickout {
    match next(d).await {
        Push::Kickout(k) => k,
        other => panic!("{}: expected kick-out, got {other:?}", d.presence.device_id),
    }
}

/// Asserts the device has no push waiting: a marker routed now is next.
async fn nothing_more(nodes: &[Bus], d: &mut Dev) {
    let marker = Push::MultiSpot(MultiSpot {
        multi_spot_notiy_type: 0,
        other_clients_pres: Vec::new(),
    });
    nodes[0]
        .router
        .deliver(vec![Envelope::new(d.addr, marker.clone())])
        .await
        .expect("route marker");
    let got = next(d).await;
    assert_eq!(got, marker, "{}: unexpected push", d.presence.device_id);
}

fn ids(p: &[Presence]) -> Vec<&str> {
    p.iter().map(|p| p.device_id.as_str()).collect()
}

async fn local_total(nodes: &[Bus]) -> usize {
    let mut n = 0;
    for b in nodes {
        n += b.local_sessions().await.expect("count");
    }
    n
}

/// Logins and logouts: the new device sees the others; the others hear
/// ImIn and ImOut with their current other devices.
pub async fn multispot_on_login_and_logout(nodes: &[Bus]) {
    let all = Policy::All.rules();
    let mut d1 = dev(nodes, 0, "a", "d1", ct::PC_WINDOWS);
    let mut d2 = dev(nodes, 1, "a", "d2", ct::IOS);
    let mut d3 = dev(nodes, 2, "a", "d3", ct::WEB);
    let (others, _, _) = admitted(attach(nodes, &d1, &all).await);
    assert!(others.is_empty());
    let (others, replaced, kicked) = admitted(attach(nodes, &d2, &all).await);
    assert_eq!(
        (ids(&others), replaced, kicked.len()),
        (vec!["d1"], None, 0)
    );
    let m = multispot(&mut d1).await;
    assert_eq!(m.multi_spot_notiy_type, multispot_type::IM_IN);
    assert_eq!(m.other_clients_pres, vec![d2.presence.clone()]);
    let (others, _, _) = admitted(attach(nodes, &d3, &all).await);
    assert_eq!(ids(&others), ["d1", "d2"]);
    // Each hears the device that came, not its whole view (NIM apps add
    // exactly the listed devices on ImIn).
    assert_eq!(ids(&multispot(&mut d1).await.other_clients_pres), ["d3"]);
    assert_eq!(ids(&multispot(&mut d2).await.other_clients_pres), ["d3"]);
    assert_eq!(local_total(nodes).await, 3);

    let b = &nodes[d2.node];
    assert!(b.detach(&key("a"), d2.addr).await.unwrap());
    assert!(
        !b.detach(&key("a"), d2.addr).await.unwrap(),
        "detached once"
    );
    // ... and the device that left on ImOut.
    for d in [&mut d1, &mut d3] {
        let m = multispot(d).await;
        assert_eq!(m.multi_spot_notiy_type, multispot_type::IM_OUT);
        assert_eq!(ids(&m.other_clients_pres), ["d2"]);
    }
    let online = nodes[0].online(&key("a")).await.unwrap();
    assert_eq!(
        online.iter().map(|s| s.addr).collect::<Vec<_>>(),
        [d1.addr, d3.addr]
    );
    let devices = nodes[1 % nodes.len()]
        .directory
        .devices(&key("a"))
        .await
        .unwrap();
    assert_eq!(devices, [d1.addr, d3.addr]);
    assert_eq!(local_total(nodes).await, 2);
    for d in [&mut d1, &mut d2, &mut d3] {
        nothing_more(nodes, d).await;
    }
}

/// The same device id logging in again replaces its old connection, kicks
/// nobody, and the others hear ImIn without device info.
pub async fn same_device_replaces_itself(nodes: &[Bus]) {
    let all = Policy::All.rules();
    let mut old = dev(nodes, 0, "a", "d1", ct::PC_WINDOWS);
    let mut d2 = dev(nodes, 1, "a", "d2", ct::IOS);
    let mut new = dev(nodes, 1, "a", "d1", ct::PC_WINDOWS);
    admitted(attach(nodes, &old, &all).await);
    admitted(attach(nodes, &d2, &all).await);
    multispot(&mut old).await;
    let (others, replaced, kicked) = admitted(attach(nodes, &new, &all).await);
    assert_eq!(ids(&others), ["d2"]);
    assert_eq!(replaced, Some(old.addr));
    assert!(kicked.is_empty());
    assert_eq!(next(&mut old).await, Push::Replaced);
    let m = multispot(&mut d2).await;
    assert_eq!(m.multi_spot_notiy_type, multispot_type::IM_IN);
    assert!(
        m.other_clients_pres.is_empty(),
        "no device info on a re-login"
    );
    assert!(
        !nodes[old.node].detach(&key("a"), old.addr).await.unwrap(),
        "the replaced connection is gone already"
    );
    assert_eq!(local_total(nodes).await, 2);
    for d in [&mut old, &mut d2, &mut new] {
        nothing_more(nodes, d).await;
    }
}

/// Policies kick the devices in the way with reason 1 naming the new
/// device, or refuse the login and change nothing.
pub async fn policies_kick_with_reason_1_or_refuse(nodes: &[Bus]) {
    // single: the new device kicks the old one.
    let single = Policy::Single.rules();
    let mut a1 = dev(nodes, 0, "s", "a1", ct::PC_WINDOWS);
    let mut a2 = dev(nodes, 1, "s", "a2", ct::ANDROID);
    admitted(attach(nodes, &a1, &single).await);
    let (others, _, kicked) = admitted(attach(nodes, &a2, &single).await);
    assert!(others.is_empty());
    assert_eq!(ids(&kicked), ["a1"]);
    let k = kickout(&mut a1).await;
    assert_eq!(
        (k.reason_code, k.client_type, k.custom_client_type),
        (1, ct::ANDROID, 0)
    );
    // desktop_mobile: a second desktop kicks the first, the phone stays.
    let dm = Policy::DesktopMobile.rules();
    let mut pc = dev(nodes, 0, "dm", "pc", ct::PC_WINDOWS);
    let mut phone = dev(nodes, 1, "dm", "phone", ct::ANDROID);
    let mut mac = dev(nodes, 2, "dm", "mac", ct::MACOS);
    admitted(attach(nodes, &pc, &dm).await);
    admitted(attach(nodes, &phone, &dm).await);
    multispot(&mut pc).await;
    let (others, _, kicked) = admitted(attach(nodes, &mac, &dm).await);
    assert_eq!((ids(&others), ids(&kicked)), (vec!["phone"], vec!["pc"]));
    assert_eq!(kickout(&mut pc).await.client_type, ct::MACOS);
    // The phone hears the kicked desktop leave, then the new one come.
    let out = multispot(&mut phone).await;
    assert_eq!(
        (out.multi_spot_notiy_type, ids(&out.other_clients_pres)),
        (multispot_type::IM_OUT, vec!["pc"])
    );
    let came = multispot(&mut phone).await;
    assert_eq!(
        (came.multi_spot_notiy_type, ids(&came.other_clients_pres)),
        (multispot_type::IM_IN, vec!["mac"])
    );
    // custom with refuse: the second device is turned away, nobody hears a thing.
    let refuse = Rules {
        classes: BTreeMap::from([("any".into(), 1)]),
        client_types: BTreeMap::new(),
        custom_client_types: BTreeMap::new(),
        default_class: "any".into(),
        exclusive: Vec::new(),
        max_total: 1,
        overflow: Overflow::Refuse,
    };
    let mut r1 = dev(nodes, 0, "r", "r1", ct::WEB);
    let mut r2 = dev(nodes, 1, "r", "r2", ct::WEB);
    admitted(attach(nodes, &r1, &refuse).await);
    assert_eq!(attach(nodes, &r2, &refuse).await, Attach::Refused);
    assert_eq!(ids(&kicked_online(nodes, "r").await), ["r1"]);
    for d in [
        &mut a1, &mut a2, &mut pc, &mut phone, &mut mac, &mut r1, &mut r2,
    ] {
        nothing_more(nodes, d).await;
    }
}

async fn kicked_online(nodes: &[Bus], accid: &str) -> Vec<Presence> {
    nodes[0]
        .online(&key(accid))
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.presence)
        .collect()
}

/// Server kicks (reason 2) and kicks by the account's own device (reason
/// 3) reach exactly their targets, never the kicker; the rest hear ImOut.
pub async fn kicks_reach_their_targets_with_their_reasons(nodes: &[Bus]) {
    let all = Policy::All.rules();
    let mut d: Vec<Dev> = (0..4)
        .map(|i| dev(nodes, i, "k", &format!("d{i}"), ct::WEB))
        .collect();
    for i in 0..d.len() {
        admitted(attach(nodes, &d[i], &all).await);
        for earlier in d.iter_mut().take(i) {
            multispot(earlier).await;
        }
    }
    let k = key("k");
    let b = &nodes[0];
    // The server kicks d0 and a device that is not online.
    let why = Kickout::by_server("maintenance");
    let out = b
        .kick(
            &k,
            &KickTarget::Devices(vec!["d0".into(), "zz".into()]),
            &why,
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        out.kicked.iter().map(|s| s.addr).collect::<Vec<_>>(),
        [d[0].addr]
    );
    assert_eq!(out.not_online, ["zz"]);
    let got = kickout(&mut d[0]).await;
    assert_eq!(got, why);
    assert_eq!((got.reason_code, got.client_type), (2, ct::REST_API));
    for x in &mut d[1..] {
        let m = multispot(x).await;
        assert_eq!(m.multi_spot_notiy_type, multispot_type::IM_OUT);
        assert_eq!(ids(&m.other_clients_pres), ["d0"]);
    }
    // d1 kicks d1 (itself: never) and d2: only d2 goes.
    let mine = Kickout::by_own_device(ct::WEB, 0);
    let out = nodes[d[1].node]
        .kick(
            &k,
            &KickTarget::Devices(vec!["d1".into(), "d2".into()]),
            &mine,
            Some(d[1].addr),
        )
        .await
        .unwrap();
    assert_eq!(
        out.kicked.iter().map(|s| s.addr).collect::<Vec<_>>(),
        [d[2].addr]
    );
    assert_eq!(out.not_online, ["d1"], "the kicker itself is not kicked");
    assert_eq!(kickout(&mut d[2]).await.reason_code, 3);
    for i in [1, 3] {
        let m = multispot(&mut d[i]).await;
        assert_eq!(
            (m.multi_spot_notiy_type, ids(&m.other_clients_pres)),
            (3, vec!["d2"])
        );
    }
    // All but d3: d1 goes.
    let out = b
        .kick(&k, &KickTarget::AllBut(vec!["d3".into()]), &why, None)
        .await
        .unwrap();
    assert_eq!(
        ids(&out
            .kicked
            .into_iter()
            .map(|s| s.presence)
            .collect::<Vec<_>>()),
        ["d1"]
    );
    kickout(&mut d[1]).await;
    assert_eq!(ids(&multispot(&mut d[3]).await.other_clients_pres), ["d1"]);
    // A kicked session detaches as "already gone".
    assert!(!b.detach(&k, d[1].addr).await.unwrap());
    // Nothing online: kicks find nothing.
    let none = b
        .kick(
            &key("nobody"),
            &KickTarget::Devices(vec!["x".into()]),
            &why,
            None,
        )
        .await
        .unwrap();
    assert!(none.kicked.is_empty());
    assert_eq!(none.not_online, ["x"]);
    assert_eq!(local_total(nodes).await, 1);
    for x in &mut d {
        nothing_more(nodes, x).await;
    }
}

/// Accounts are independent: the same accid in another app, and other
/// accounts, are never touched by one account's decisions.
pub async fn accounts_are_independent(nodes: &[Bus]) {
    let single = Policy::Single.rules();
    let mut a = dev(nodes, 0, "same", "da", ct::WEB);
    let mut b = dev(nodes, 1, "same", "db", ct::WEB);
    let mut c = dev(nodes, 0, "other", "dc", ct::WEB);
    let other_app = AccountKey::new(2, AccountId::parse("same").unwrap());
    admitted(attach(nodes, &a, &single).await);
    admitted(
        nodes[b.node]
            .attach(&other_app, b.addr, b.presence.clone(), &single)
            .await
            .unwrap(),
    );
    admitted(attach(nodes, &c, &single).await);
    assert_eq!(nodes[b.node].online(&other_app).await.unwrap().len(), 1);
    assert_eq!(local_total(nodes).await, 3);
    for d in [&mut a, &mut b, &mut c] {
        nothing_more(nodes, d).await;
    }
}

/// Many logins of one account at once, spread over the nodes, end within
/// the policy: every admitted device but the survivors is kicked exactly
/// once with reason 1, and the survivors are never kicked.
pub async fn racing_logins_of_one_account_end_within_the_policy(nodes: &[Bus]) {
    const N: usize = 200;
    let types = [ct::PC_WINDOWS, ct::MACOS, ct::WEB, ct::ANDROID, ct::IOS];
    for (policy, accid) in [(Policy::Single, "race1"), (Policy::DesktopMobile, "race2")] {
        let rules = policy.rules();
        let devs: Vec<Dev> = (0..N)
            .map(|i| dev(nodes, i, accid, &format!("r{i}"), types[i % types.len()]))
            .collect();
        let mut tasks = Vec::new();
        for d in &devs {
            let (bus, k, addr, p, r) = (
                nodes[d.node].clone(),
                key(accid),
                d.addr,
                d.presence.clone(),
                rules.clone(),
            );
            tasks.push(tokio::spawn(async move {
                bus.attach(&k, addr, p, &r).await.expect("attach")
            }));
        }
        for t in tasks {
            assert!(matches!(t.await.unwrap(), Attach::Admitted { .. }));
        }
        let online = nodes[0].online(&key(accid)).await.unwrap();
        match policy {
            Policy::Single => assert_eq!(online.len(), 1),
            _ => {
                let desktop = online
                    .iter()
                    .filter(|s| {
                        [ct::PC_WINDOWS, ct::MACOS, ct::WEB].contains(&s.presence.client_type)
                    })
                    .count();
                assert_eq!((desktop, online.len() - desktop), (1, 1));
            }
        }
        let survivors: Vec<DeviceAddr> = online.iter().map(|s| s.addr).collect();
        for mut d in devs {
            let mut kicks = 0;
            loop {
                match tokio::time::timeout(Duration::from_millis(0), d.rx.rx.recv()).await {
                    Ok(Some(Push::Kickout(k))) => {
                        assert_eq!(k.reason_code, 1);
                        kicks += 1;
                    }
                    Ok(Some(_)) => {}
                    _ => break,
                }
            }
            let survived = survivors.contains(&d.addr);
            if !survived && kicks == 0 {
                // An async router may still be on its way: wait for the kick.
                assert_eq!(kickout(&mut d).await.reason_code, 1);
                kicks = 1;
            }
            assert_eq!(kicks, usize::from(!survived), "{}", d.presence.device_id);
        }
        assert_eq!(local_total(nodes).await, survivors.len());
        for s in survivors {
            nodes[0].detach(&key(accid), s).await.unwrap();
        }
    }
}

/// Expands to one `#[tokio::test]` per conformance check. `$make` is an
/// expression whose value is a future of `(Vec<Bus>, G)`: the nodes, all
/// sharing one directory, and a guard that keeps their resources alive.
#[macro_export]
macro_rules! bus_conformance_suite {
    ($make:expr) => {
        $crate::bus_conformance_suite!(@each $make;
            multispot_on_login_and_logout,
            same_device_replaces_itself,
            policies_kick_with_reason_1_or_refuse,
            kicks_reach_their_targets_with_their_reasons,
            accounts_are_independent,
            racing_logins_of_one_account_end_within_the_policy
        );
    };
    (@each $make:expr; $($name:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let (nodes, _guard) = $make.await;
                $crate::conformance::$name(&nodes).await;
            }
        )*
    };
}

#[cfg(test)]
mod tests {
    mod in_process {
        crate::bus_conformance_suite!(async {
            (vec![crate::Bus::in_process(crate::NodeId(1))], ())
        });
    }

    mod two_nodes_over_memory {
        crate::bus_conformance_suite!(async { (crate::conformance::memory_cluster(2), ()) });
    }
}
