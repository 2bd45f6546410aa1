//! The model's names, validated on the way in: object keys (and the layout that reads them),
//! ids, emails, file names, titles, file types, bucket names and RFC 3339 times. Whatever
//! parses is its own canonical spelling: parsing it again (or through serde) gives the same
//! value, and a key the layout recognises is the one its constructor writes.

use model::layout::{Located, content_type, locate};
use model::{
    BucketName, Email, FileName, FileType, ObjectKey, Timestamp, Title, UserId, VideoContainer,
    VideoId,
};

use crate::input::text;

pub fn model_names(data: &[u8]) {
    let text = text(data);
    for candidate in std::iter::once(&*text).chain(text.lines()) {
        names(candidate);
    }
}

fn names(text: &str) {
    if let Ok(key) = ObjectKey::parse(text) {
        assert_eq!(key.as_str(), text);
        let json = serde_json::to_string(&key).expect("a key serializes");
        assert_eq!(
            serde_json::from_str::<ObjectKey>(&json).ok().as_ref(),
            Some(&key)
        );
        assert!(!content_type(&key).is_empty());
        match locate(&key) {
            Some(Located::Source { video, container }) => {
                assert_eq!(ObjectKey::source(&video, container), key);
            }
            Some(Located::Output { video, name }) => {
                assert_eq!(ObjectKey::output(&video, name).as_ref(), Ok(&key));
            }
            None => {}
        }
    }
    if let Ok(id) = VideoId::parse(text) {
        assert_eq!(id.as_str(), text.to_ascii_lowercase());
        assert_eq!(VideoId::parse(id.as_str()).as_ref(), Ok(&id));
    }
    if let Ok(id) = UserId::parse(text) {
        assert_eq!(UserId::parse(id.as_str()).as_ref(), Ok(&id));
    }
    if let Ok(email) = Email::parse(text) {
        assert_eq!(Email::parse(email.as_str()).as_ref(), Ok(&email));
        let json = serde_json::to_string(&email).expect("an email serializes");
        assert_eq!(
            serde_json::from_str::<Email>(&json).ok().as_ref(),
            Some(&email)
        );
    }
    if let Ok(name) = FileName::parse(text) {
        assert_eq!(name.as_str(), text.trim());
        assert_eq!(FileName::parse(name.as_str()).as_ref(), Ok(&name));
        assert_eq!(
            VideoContainer::from_file_name(name.as_str()),
            Ok(name.container())
        );
        let title = Title::from_file_name(&name);
        assert!(
            Title::parse(title.as_str()).is_ok(),
            "{name:?} gave {title:?}"
        );
    }
    if let Ok(title) = Title::parse(text) {
        assert_eq!(Title::parse(title.as_str()).as_ref(), Ok(&title));
    }
    if let Ok(file_type) = FileType::parse(text) {
        // It is signed into the upload's Content-Type.
        assert!(
            http::HeaderValue::from_str(file_type.as_str()).is_ok(),
            "{file_type:?}"
        );
    }
    if let Ok(bucket) = BucketName::parse(text) {
        assert_eq!(BucketName::parse(bucket.as_str()).as_ref(), Ok(&bucket));
    }
    if let Ok(time) = Timestamp::parse_rfc3339(text) {
        assert_eq!(
            Timestamp::parse_rfc3339(&time.rfc3339()),
            Ok(time),
            "{text:?} read as {time:?}, written as {:?}",
            time.rfc3339()
        );
    }
}
