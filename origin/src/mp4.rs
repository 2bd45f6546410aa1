//! A small reader of ISO base media (MP4/MOV) headers: enough to tell the codecs, the
//! picture size and whether the index sits before the media data. Sans-IO: it works on byte
//! slices; [`probe_object`] feeds it from ranged reads of an object, which is how the Lambda
//! learns what an upload holds without downloading it (see origin/README.md, "Probe").

use crate::error::{Error, Result};
use crate::media::{AudioCodec, Container, MediaInfo, VideoCodec, VideoTrack};
use crate::store::ObjectStore;
use crate::transcoder::Source;
use model::{BucketName, ObjectKey};

/// A box header: its four-character type, where its payload starts and ends (absolute).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoxHeader {
    pub kind: [u8; 4],
    pub offset: u64,
    pub header_len: u64,
    /// Total size including the header; `None` when the box runs to the end of the file.
    pub size: Option<u64>,
}

impl BoxHeader {
    /// Parses the header at the start of `bytes` (which begins at absolute `offset`).
    pub fn parse(bytes: &[u8], offset: u64) -> Option<BoxHeader> {
        let size32 = u32::from_be_bytes(bytes.get(0..4)?.try_into().ok()?);
        let kind: [u8; 4] = bytes.get(4..8)?.try_into().ok()?;
        let (size, header_len) = match size32 {
            0 => (None, 8),
            1 => (
                Some(u64::from_be_bytes(bytes.get(8..16)?.try_into().ok()?)),
                16,
            ),
            n => (Some(u64::from(n)), 8),
        };
        if size.is_some_and(|s| s < header_len) {
            return None;
        }
        Some(BoxHeader {
            kind,
            offset,
            header_len,
            size,
        })
    }
}

/// Children of a box payload, as (type, payload) pairs; stops at the first malformed child.
fn children(payload: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    let mut rest = payload;
    std::iter::from_fn(move || {
        let header = BoxHeader::parse(rest, 0)?;
        let end = match header.size {
            Some(s) => usize::try_from(s).ok().filter(|&s| s <= rest.len())?,
            None => rest.len(),
        };
        let body = &rest[header.header_len as usize..end];
        rest = &rest[end..];
        Some((header.kind, body))
    })
}

fn child<'a>(payload: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    children(payload).find(|(k, _)| k == kind).map(|(_, b)| b)
}

fn be_u16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
fn be_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
fn be_u64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// The container an `ftyp` payload announces.
pub fn container_of_ftyp(ftyp: &[u8]) -> Container {
    match ftyp.get(0..4) {
        Some(b"qt  ") => Container::Mov,
        _ => Container::Mp4,
    }
}

/// Tracks and duration from a `moov` payload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Movie {
    pub video: Option<VideoTrack>,
    pub audio: Option<AudioCodec>,
    pub duration_ms: Option<u64>,
}

pub fn parse_moov(moov: &[u8]) -> Movie {
    let mut movie = Movie {
        duration_ms: child(moov, b"mvhd").and_then(mvhd_duration_ms),
        ..Movie::default()
    };
    for (_, trak) in children(moov).filter(|(k, _)| k == b"trak") {
        let Some(mdia) = child(trak, b"mdia") else {
            continue;
        };
        let Some(handler) = child(mdia, b"hdlr").and_then(|h| h.get(8..12)) else {
            continue;
        };
        let Some(entry) = child(mdia, b"minf")
            .and_then(|m| child(m, b"stbl"))
            .and_then(|s| child(s, b"stsd"))
            .and_then(|s| s.get(8..))
            .and_then(|entries| children(entries).next())
        else {
            continue;
        };
        match handler {
            b"vide" if movie.video.is_none() => {
                let rotation = child(trak, b"tkhd").map_or(0, tkhd_rotation);
                movie.video = Some(VideoTrack {
                    rotation,
                    ..video_entry(entry.0, entry.1)
                });
            }
            b"soun" if movie.audio.is_none() => movie.audio = Some(audio_entry(entry.0, entry.1)),
            _ => {}
        }
    }
    movie
}

fn mvhd_duration_ms(mvhd: &[u8]) -> Option<u64> {
    let (timescale, duration) = match mvhd.first()? {
        0 => (u64::from(be_u32(mvhd, 12)?), u64::from(be_u32(mvhd, 16)?)),
        _ => (u64::from(be_u32(mvhd, 20)?), be_u64(mvhd, 24)?),
    };
    (timescale > 0).then(|| duration.saturating_mul(1000) / timescale)
}

/// How far a track header's matrix turns the picture (0, 90, 180 or 270 degrees). The
/// matrix's first two rows (16.16 fixed point) are a, b and c, d: a quarter turn has a = d = 0.
fn tkhd_rotation(tkhd: &[u8]) -> u16 {
    // version/flags, times, track id, reserved, duration, reserved, layer … volume: 40 bytes
    // in version 0, 52 in version 1 (64-bit times and duration).
    let at = if tkhd.first() == Some(&1) { 52 } else { 40 };
    let fixed = |i: usize| be_u32(tkhd, at + 4 * i).map(|v| f64::from(v as i32) / 65536.0);
    let (Some(a), Some(b)) = (fixed(0), fixed(1)) else {
        return 0;
    };
    // Counterclockwise, as ffprobe reports it.
    crate::media::quarter_turn(-b.atan2(a).to_degrees())
}

/// A visual sample entry: 8 bytes of SampleEntry, then width/height at 24/26, children at 78.
fn video_entry(kind: [u8; 4], entry: &[u8]) -> VideoTrack {
    let width = be_u16(entry, 24).map_or(0, u32::from);
    let height = be_u16(entry, 26).map_or(0, u32::from);
    let extensions = entry.get(78..).unwrap_or_default();
    let (codec, browser_safe) = match &kind {
        b"avc1" | b"avc3" => {
            // avcC: configurationVersion, AVCProfileIndication, …: Baseline (66), Main (77),
            // Extended (88) and High (100) are 8-bit 4:2:0; High 10/4:2:2/4:4:4 are not.
            let profile = child(extensions, b"avcC").and_then(|c| c.get(1).copied());
            (
                VideoCodec::H264,
                profile.map(|p| matches!(p, 66 | 77 | 88 | 100)),
            )
        }
        b"hvc1" | b"hev1" => (VideoCodec::Hevc, None),
        b"vp09" => (VideoCodec::Vp9, None),
        b"vp08" => (VideoCodec::Vp8, None),
        b"av01" => (VideoCodec::Av1, None),
        b"mp4v" => (VideoCodec::Mpeg4, None),
        other => (
            VideoCodec::Other(String::from_utf8_lossy(other).into_owned()),
            None,
        ),
    };
    VideoTrack {
        codec,
        width,
        height,
        browser_safe,
        rotation: 0,
    }
}

fn audio_entry(kind: [u8; 4], entry: &[u8]) -> AudioCodec {
    match &kind {
        b"mp4a" => {
            // AudioSampleEntry: version at 8 (QuickTime v1/v2 entries are longer); the
            // esds may sit directly below or inside a QuickTime `wave` box.
            let start = match be_u16(entry, 8) {
                Some(1) => 44,
                Some(2) => 64,
                _ => 28,
            };
            let ext = entry.get(start..).unwrap_or_default();
            let esds =
                child(ext, b"esds").or_else(|| child(ext, b"wave").and_then(|w| child(w, b"esds")));
            match esds.and_then(object_type_indication) {
                Some(0x40 | 0x66..=0x68) => AudioCodec::Aac,
                Some(0x69 | 0x6B) => AudioCodec::Mp3,
                Some(other) => AudioCodec::Other(format!("mp4a.{other:02x}")),
                None => AudioCodec::Other("mp4a".into()),
            }
        }
        b"Opus" => AudioCodec::Opus,
        b".mp3" => AudioCodec::Mp3,
        b"lpcm" | b"sowt" | b"twos" | b"ipcm" | b"fpcm" => AudioCodec::Pcm,
        other => AudioCodec::Other(String::from_utf8_lossy(other).into_owned()),
    }
}

/// The objectTypeIndication of the DecoderConfigDescriptor inside an `esds` payload.
fn object_type_indication(esds: &[u8]) -> Option<u8> {
    fn descriptor(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
        let tag = *b.first()?;
        let mut len = 0usize;
        let mut i = 1;
        loop {
            let byte = *b.get(i)?;
            len = (len << 7) | usize::from(byte & 0x7f);
            i += 1;
            if byte & 0x80 == 0 || i > 4 {
                break;
            }
        }
        let body = b.get(i..i + len)?;
        Some((tag, body, &b[i + len..]))
    }
    let (tag, es, _) = descriptor(esds.get(4..)?)?;
    if tag != 0x03 {
        return None;
    }
    let flags = *es.get(2)?;
    let mut at = 3;
    if flags & 0x80 != 0 {
        at += 2;
    }
    if flags & 0x40 != 0 {
        at += 1 + usize::from(*es.get(at)?);
    }
    if flags & 0x20 != 0 {
        at += 2;
    }
    let (tag, config, _) = descriptor(es.get(at..)?)?;
    (tag == 0x04).then(|| config.first().copied()).flatten()
}

/// The most of a `moov` the Lambda is willing to read (a two-hour film's index is ~10 MB).
pub const MAX_MOOV_BYTES: u64 = 64 << 20;
/// How many top-level boxes are walked before giving up.
const MAX_TOP_LEVEL_BOXES: usize = 64;
/// The first read: ftyp and, for a fast-start file, usually the whole moov.
const HEAD_BYTES: u64 = 256 << 10;

/// Learns what an object holds by ranged reads of its top-level boxes: one read of the
/// head, then 16-byte reads of box headers until the `moov`, which is read whole. An object
/// that is not ISO base media comes back as [`Container::Other`] with no tracks, which plans
/// a transcode. Missing object: [`Error::NotFound`].
pub async fn probe_object<S: ObjectStore>(store: &S, source: &Source) -> Result<MediaInfo> {
    let (bucket, key, size) = (&source.bucket, &source.key, source.size);
    let unknown = |what: &str| MediaInfo {
        container: Container::Other(what.into()),
        video: None,
        audio: None,
        fast_start: None,
        duration_ms: None,
        size,
    };
    if size < 8 {
        return Err(Error::InvalidInput(format!(
            "the object is {size} bytes long"
        )));
    }
    let head = store
        .get_range(bucket, key, 0, HEAD_BYTES.min(size))
        .await?;
    let mut offset = 0u64;
    let mut container = None;
    let mut moov_at = None;
    let mut mdat_at = None;
    for _ in 0..MAX_TOP_LEVEL_BOXES {
        if offset.saturating_add(8) > size {
            break;
        }
        let header_bytes = if offset.saturating_add(16) <= head.len() as u64 {
            head[offset as usize..offset as usize + 16].to_vec()
        } else {
            store
                .get_range(bucket, key, offset, 16.min(size - offset))
                .await?
        };
        let Some(header) = BoxHeader::parse(&header_bytes, offset) else {
            break;
        };
        let box_size = header.size.unwrap_or(size - offset);
        let payload_start = offset + header.header_len;
        let payload_len = box_size - header.header_len;
        match &header.kind {
            b"ftyp" if offset == 0 => {
                let ftyp = read(
                    store,
                    bucket,
                    key,
                    &head,
                    payload_start,
                    payload_len.min(4096),
                )
                .await?;
                container = Some(container_of_ftyp(&ftyp));
            }
            b"moov" => {
                if payload_len > MAX_MOOV_BYTES {
                    return Ok(unknown("mp4 (index too large to inspect)"));
                }
                moov_at = Some((
                    offset,
                    read(store, bucket, key, &head, payload_start, payload_len).await?,
                ));
            }
            b"mdat" => {
                mdat_at.get_or_insert(offset);
            }
            b"free" | b"skip" | b"wide" | b"uuid" | b"pdin" | b"meta" | b"moof" | b"mfra"
            | b"sidx" | b"styp" | b"emsg" | b"prft" => {}
            _ if offset == 0 => return Ok(unknown("not iso base media")),
            _ => {}
        }
        if moov_at.is_some() && mdat_at.is_some() {
            break;
        }
        // A 64-bit size is the uploader's to choose: one near 2^64 ends the walk.
        let Some(next) = offset.checked_add(box_size) else {
            break;
        };
        offset = next;
    }
    let Some((moov_offset, moov)) = moov_at else {
        return Ok(unknown("mp4 without an index"));
    };
    let movie = parse_moov(&moov);
    Ok(MediaInfo {
        // A file with no ftyp at all is an old QuickTime movie.
        container: container.unwrap_or(Container::Mov),
        video: movie.video,
        audio: movie.audio,
        fast_start: Some(mdat_at.is_none_or(|mdat| moov_offset < mdat)),
        duration_ms: movie.duration_ms,
        size,
    })
}

async fn read<S: ObjectStore>(
    store: &S,
    bucket: &BucketName,
    key: &ObjectKey,
    head: &[u8],
    start: u64,
    len: u64,
) -> Result<Vec<u8>> {
    if start.saturating_add(len) <= head.len() as u64 {
        return Ok(head[start as usize..(start + len) as usize].to_vec());
    }
    store.get_range(bucket, key, start, len).await
}

/// Whether a local MP4 file has its index before its media data (for tests and checks).
pub fn file_is_fast_start(bytes: &[u8]) -> Option<bool> {
    let mut offset = 0usize;
    let (mut moov, mut mdat) = (None, None);
    while offset.saturating_add(8) <= bytes.len() {
        let h = BoxHeader::parse(&bytes[offset..], offset as u64)?;
        match &h.kind {
            b"moov" => moov = moov.or(Some(offset)),
            b"mdat" => mdat = mdat.or(Some(offset)),
            _ => {}
        }
        let size = usize::try_from(h.size.unwrap_or((bytes.len() - offset) as u64)).ok()?;
        offset = offset.checked_add(size)?;
    }
    Some(moov? < mdat?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_headers() {
        let h = BoxHeader::parse(&[0, 0, 0, 24, b'f', b't', b'y', b'p'], 0).unwrap();
        assert_eq!((h.kind, h.size, h.header_len), (*b"ftyp", Some(24), 8));
        let large = [0, 0, 0, 1, b'm', b'd', b'a', b't', 0, 0, 0, 1, 0, 0, 0, 0];
        let h = BoxHeader::parse(&large, 100).unwrap();
        assert_eq!((h.size, h.header_len, h.offset), (Some(1 << 32), 16, 100));
        assert!(BoxHeader::parse(&[0, 0, 0, 4, b'b', b'a', b'd', b'!'], 0).is_none());
        assert!(BoxHeader::parse(&[0, 0], 0).is_none());
    }

    /// A box whose 64-bit size reaches past 2^64 ends the walk instead of wrapping the
    /// offset (found by the `mp4` fuzz target).
    #[test]
    fn box_sizes_near_u64_max_end_the_walk() {
        let mut bytes = vec![0, 0, 0, 16, b'f', b'r', b'e', b'e'];
        bytes.extend_from_slice(&[0; 8]);
        bytes.extend_from_slice(&[0, 0, 0, 1, b's', b'k', b'i', b'p']);
        bytes.extend_from_slice(&u64::MAX.to_be_bytes());
        assert_eq!(file_is_fast_start(&bytes), None);
    }

    #[test]
    fn esds_object_type() {
        // ES_Descriptor(ES_ID=1, no flags) > DecoderConfigDescriptor(OTI=0x40 …)
        let esds = [
            0, 0, 0, 0, 0x03, 0x80, 0x80, 0x80, 0x08, 0, 1, 0, 0x04, 0x03, 0x40, 0x15, 0,
        ];
        assert_eq!(object_type_indication(&esds), Some(0x40));
        let short = [0, 0, 0, 0, 0x03, 0x06, 0, 1, 0, 0x04, 0x01, 0x6B];
        assert_eq!(object_type_indication(&short), Some(0x6B));
        assert_eq!(object_type_indication(&[0, 0, 0, 0, 0x05, 0]), None);
    }

    #[test]
    fn ftyp_brands() {
        assert_eq!(container_of_ftyp(b"qt  \0\0\0\0qt  "), Container::Mov);
        assert_eq!(
            container_of_ftyp(b"isom\0\0\x02\0isomiso2avc1mp41"),
            Container::Mp4
        );
    }
}
