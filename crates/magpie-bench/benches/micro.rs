//! Micro-benchmarks: the codec, token verification, the multi-device decision.

use criterion::{criterion_group, criterion_main, Criterion};
use magpie_bus::policy::{decide, Device, Policy};
use magpie_proto::codec::{decode_client, encode_client};
use magpie_proto::frame::LoginRequest;
use magpie_proto::ClientFrame;
use std::hint::black_box;

fn codec(c: &mut Criterion) {
    let frame = ClientFrame::Login {
        seq: 7,
        body: Box::new(LoginRequest {
            app_key: "0123456789abcdef0123456789abcdef".into(),
            account: "alice".into(),
            token: "0123456789abcdef0123456789abcdef".into(),
            client_type: 4,
            device_id: "3f2a9c1e7b5d4a60b8e2c9d1f0a7b6c5".into(),
            client_os: "windows 11".into(),
            sdk_version: "magpie-rust/0.1.0".into(),
            ..Default::default()
        }),
    };
    let mut buf = Vec::new();
    encode_client(&frame, &mut buf, u32::MAX).unwrap();
    c.bench_function("codec/encode_login", |b| {
        let mut out = Vec::with_capacity(256);
        b.iter(|| {
            out.clear();
            encode_client(black_box(&frame), &mut out, u32::MAX).unwrap()
        })
    });
    c.bench_function("codec/decode_login", |b| {
        b.iter(|| decode_client(black_box(&buf), 65536).unwrap())
    });
}

fn tokens(c: &mut Criterion) {
    let h = magpie_store::TokenHash::new("0123456789abcdef0123456789abcdef");
    c.bench_function("token/verify_static", |b| {
        b.iter(|| h.verify(black_box("0123456789abcdef0123456789abcdef")))
    });
    let t = magpie_server::dynamic::make("key", "secret", "alice", 1_700_000_000_000, 600);
    let limits = magpie_server::dynamic::Limits {
        max_ttl_secs: 86_400,
        clock_skew_ms: 300_000,
    };
    c.bench_function("token/verify_dynamic", |b| {
        b.iter(|| {
            magpie_server::dynamic::verify(
                black_box(&t),
                "key",
                "secret",
                &["alice"],
                1_700_000_001_000,
                limits,
            )
            .unwrap()
        })
    });
}

fn policy(c: &mut Criterion) {
    let rules = Policy::DesktopMobile.rules();
    let online = [
        Device {
            client_type: 4,
            custom_client_type: 0,
        },
        Device {
            client_type: 1,
            custom_client_type: 0,
        },
    ];
    c.bench_function("policy/decide_desktop_mobile", |b| {
        b.iter(|| {
            decide(
                black_box(&rules),
                black_box(&online),
                Device {
                    client_type: 64,
                    custom_client_type: 0,
                },
            )
        })
    });
    let all = Policy::All.rules();
    let ten = [Device {
        client_type: 16,
        custom_client_type: 0,
    }; 10];
    c.bench_function("policy/decide_all_eleventh", |b| {
        b.iter(|| {
            decide(
                black_box(&all),
                black_box(&ten),
                Device {
                    client_type: 2,
                    custom_client_type: 0,
                },
            )
        })
    });
}

criterion_group!(benches, codec, tokens, policy);
criterion_main!(benches);
