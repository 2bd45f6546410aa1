//! The job event the origin POSTs to the edge: whatever body the edge accepts as an event
//! serializes (as the origin would send it) to a body that parses to the same event.

use model::job::{JobEvent, Parsed};

pub fn job_event(data: &[u8]) {
    if let Ok(Parsed::Event(event)) = JobEvent::parse(data) {
        let sent = event.to_json();
        assert_eq!(
            JobEvent::parse(&sent),
            Ok(Parsed::Event(event)),
            "{}",
            String::from_utf8_lossy(&sent)
        );
    }
}
