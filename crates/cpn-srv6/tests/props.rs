//! Property tests: the decoders never panic on any bytes, whatever decodes re-encodes to the
//! same bytes, and every header the encoder writes decodes to itself.

use std::net::Ipv6Addr;

use cpn_srv6::{Capture, LinkType, Srh, Tlv, routing_headers};
use proptest::prelude::*;

fn tlv() -> impl Strategy<Value = Tlv> {
    prop_oneof![
        Just(Tlv::Pad1),
        (0usize..=5).prop_map(|n| Tlv::PadN(vec![0; n])),
        (
            any::<bool>(),
            0u16..0x8000,
            any::<u32>(),
            0usize..=4,
            any::<u8>()
        )
            .prop_map(|(d, reserved, key_id, words, fill)| Tlv::Hmac {
                d,
                reserved,
                key_id,
                hmac: vec![fill; 8 * words],
            }),
        (
            prop_oneof![1u8..=3, 6u8..=255],
            proptest::collection::vec(any::<u8>(), 0..40)
        )
            .prop_map(|(kind, value)| Tlv::Other { kind, value }),
    ]
}

fn srh() -> impl Strategy<Value = Srh> {
    (
        any::<u8>(),
        proptest::collection::vec(any::<u128>().prop_map(Ipv6Addr::from), 1..24),
        any::<u8>(),
        any::<u16>(),
        proptest::collection::vec(tlv(), 0..4),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(next_header, segments, flags, tag, tlvs, left)| {
            let segments_left = u8::try_from(left.index(segments.len() + 1)).expect("small");
            let mut srh = Srh {
                next_header,
                segments_left,
                flags,
                tag,
                segments,
                tlvs,
            };
            srh.pad();
            srh
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn encoded_headers_decode_to_themselves(srh in srh()) {
        let bytes = srh.encode().expect("a padded header of few segments encodes");
        prop_assert_eq!(bytes.len() % 8, 0);
        prop_assert_eq!(Srh::decode(&bytes), Ok((srh, bytes.len())));
    }

    #[test]
    fn random_bytes_never_panic_and_what_decodes_round_trips(
        bytes in proptest::collection::vec(any::<u8>(), 0..300),
        force_type_4 in any::<bool>(),
    ) {
        let mut bytes = bytes;
        if force_type_4 && bytes.len() > 2 {
            bytes[2] = 4;
        }
        if let Ok((srh, used)) = Srh::decode(&bytes) {
            let encoded = srh.encode();
            prop_assert_eq!(encoded.as_deref(), Ok(&bytes[..used]));
        }
        for link in [LinkType::Ethernet, LinkType::Raw, LinkType::LinuxSll] {
            let _ = routing_headers(link, &bytes);
        }
        let _ = Capture::parse(&bytes);
    }

    #[test]
    fn cut_headers_are_refused_not_misread(srh in srh(), cut in any::<prop::sample::Index>()) {
        let bytes = srh.encode().expect("encodes");
        let at = cut.index(bytes.len());
        prop_assert!(Srh::decode(&bytes[..at]).is_err());
    }
}
