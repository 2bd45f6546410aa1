//! The library's list cursors: opaque text a client sends back. Whatever decodes encodes to a
//! cursor that decodes to the same position, and every cursor we make decodes to itself.

use edge::catalog::ListCursor;
use edge::library::{decode_cursor, encode_cursor};
use model::{Timestamp, VideoId};

use crate::input::{take_array, take_u64, text};

pub fn list_cursor(data: &[u8]) {
    if let Some(cursor) = decode_cursor(&text(data)) {
        assert_eq!(
            decode_cursor(&encode_cursor(&cursor)).as_ref(),
            Some(&cursor)
        );
    }
    let (ms, rest) = take_u64(data);
    let (random, _) = take_array::<10>(rest);
    let created_at = Timestamp::from_unix_ms(ms as i64);
    let cursor = ListCursor {
        created_at,
        id: VideoId::new(created_at, random),
    };
    assert_eq!(decode_cursor(&encode_cursor(&cursor)), Some(cursor));
}
