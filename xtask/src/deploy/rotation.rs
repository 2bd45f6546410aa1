//! Key and secret rotation through slots (docs/OPERATIONS.md): the CloudFront playback key,
//! the Worker's S3 signing key and the webhook secret each have a blue and a green slot, so
//! a new key is trusted (or a new secret accepted) before anything signs with it, and the old
//! one is removed only after. What each deploy asks of the stack's slot parameters.

use std::collections::BTreeMap;
use std::process::Command;

use super::release::{Parameters, env_flag};
use crate::run::pipe;

/// A key or secret slot of the main stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Slot {
    Blue,
    Green,
}

impl Slot {
    pub(super) fn parse(name: &str) -> Option<Slot> {
        match name {
            "blue" => Some(Slot::Blue),
            "green" => Some(Slot::Green),
            _ => None,
        }
    }

    pub(super) fn from_env(variable: &str) -> Result<Option<Slot>, String> {
        match std::env::var(variable) {
            Err(_) => Ok(None),
            Ok(value) if value.is_empty() => Ok(None),
            Ok(value) => Slot::parse(&value)
                .map(Some)
                .ok_or_else(|| format!("{variable} must be blue or green, got `{value}`")),
        }
    }

    /// The slot a stack parameter names; blue (the template's default) on a first deploy.
    pub(super) fn current(previous: &Parameters, parameter: &str) -> Slot {
        previous
            .get(parameter)
            .and_then(|value| Slot::parse(value))
            .unwrap_or(Slot::Blue)
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            Slot::Blue => "blue",
            Slot::Green => "green",
        }
    }

    /// As it appears in parameter names: `Blue`, `Green`.
    pub(super) fn title(self) -> &'static str {
        match self {
            Slot::Blue => "Blue",
            Slot::Green => "Green",
        }
    }

    pub(super) fn other(self) -> Slot {
        match self {
            Slot::Blue => Slot::Green,
            Slot::Green => Slot::Blue,
        }
    }
}

/// What the deploy is asked to do with the Worker's S3 signing keys: EDGE_SIGNER_KEY_SLOT
/// (the slot the Worker signs with; filled with a new key if empty) and EDGE_SIGNER_OTHER_KEY
/// (`active`, `inactive` or `empty` for the other slot).
#[derive(Debug, Default)]
pub(super) struct SignerRequest {
    pub(super) slot: Option<Slot>,
    pub(super) other: Option<&'static str>,
}

impl SignerRequest {
    pub(super) fn from_env() -> Result<SignerRequest, String> {
        let other = match std::env::var("EDGE_SIGNER_OTHER_KEY").as_deref() {
            Err(_) | Ok("") => None,
            Ok("active") => Some("Active"),
            Ok("inactive") => Some("Inactive"),
            Ok("empty") => Some("Empty"),
            Ok(other) => {
                return Err(format!(
                    "EDGE_SIGNER_OTHER_KEY must be active, inactive or empty, got `{other}`"
                ));
            }
        };
        Ok(SignerRequest {
            slot: Slot::from_env("EDGE_SIGNER_KEY_SLOT")?,
            other,
        })
    }

    /// The signing key parameters: the Worker's slot holds an Active key; the other slot is
    /// changed only when asked. Refuses to disable the key the Worker signs with right now in
    /// the deploy that moves it to the other slot: the stack would do it minutes before the
    /// Worker has the new key.
    pub(super) fn parameters(&self, previous: &Parameters) -> Result<Parameters, String> {
        let current = Slot::current(previous, "ActiveEdgeSignerKey");
        let slot = self.slot.unwrap_or(current);
        let mut parameters = Parameters::from([
            ("ActiveEdgeSignerKey".into(), slot.name().into()),
            (
                format!("EdgeSignerKey{}Status", slot.title()),
                "Active".into(),
            ),
        ]);
        if let Some(status) = self.other {
            if slot != current && status != "Active" {
                return Err(format!(
                    "refusing to make the {current} signing key {status} in the deploy that moves the Worker to {slot}: the Worker signs with it until this deploy ends. Deploy with EDGE_SIGNER_KEY_SLOT={slot} first, then with EDGE_SIGNER_OTHER_KEY={}",
                    status.to_ascii_lowercase(),
                    current = current.name(),
                    slot = slot.name(),
                ));
            }
            parameters.insert(
                format!("EdgeSignerKey{}Status", slot.other().title()),
                status.into(),
            );
        }
        Ok(parameters)
    }
}

/// The webhook secret's stack parameters for this deploy. A rotation takes two stack
/// updates around the Worker's: the first fills the free slot (the origin still signs with
/// the old secret), the Worker then accepts both, the second moves the origin to the new
/// secret and empties the old slot.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct WebhookPlan {
    pub(super) first: Parameters,
    pub(super) second: Option<Parameters>,
}

impl WebhookPlan {
    pub(super) fn new(previous: &Parameters, rotate: bool) -> WebhookPlan {
        if !rotate {
            return WebhookPlan {
                first: Parameters::new(),
                second: None,
            };
        }
        let active = Slot::current(previous, "ActiveWebhookSecret");
        let new = active.other();
        let status = |slot: Slot| format!("WebhookSecret{}Status", slot.title());
        WebhookPlan {
            first: Parameters::from([(status(new), "Filled".into())]),
            second: Some(Parameters::from([
                ("ActiveWebhookSecret".into(), new.name().into()),
                (status(active), "Empty".into()),
            ])),
        }
    }
}

/// (the secret the Worker calls WEBHOOK_SECRET, the one it also accepts as
/// WEBHOOK_SECRET_PREVIOUS): during a rotation the newer one and the one the origin still
/// signs with; otherwise the origin's only.
pub(super) fn webhook_secret_arns(
    outputs: &BTreeMap<String, String>,
) -> Result<(String, Option<String>), String> {
    let active = outputs
        .get("WebhookSecretArn")
        .cloned()
        .ok_or("the stack has no WebhookSecretArn output")?;
    Ok(match outputs.get("WebhookSecretPendingArn") {
        Some(pending) => (pending.clone(), Some(active)),
        None => (active, None),
    })
}

/// Trusting a new CloudFront key before signing with it: the active slot gets the public half
/// of CLOUDFRONT_PRIVATE_KEY; CLOUDFRONT_KEY_SLOT switches slots and
/// CLOUDFRONT_RETIRE_OTHER_KEY=1 empties the other one (docs/OPERATIONS.md).
pub(super) fn playback_key_parameters(
    previous: &Parameters,
    secrets: &BTreeMap<String, String>,
) -> Result<Parameters, String> {
    let Some(private_key) = secrets.get("CLOUDFRONT_PRIVATE_KEY") else {
        return Ok(Parameters::new());
    };
    let slot = Slot::from_env("CLOUDFRONT_KEY_SLOT")?
        .unwrap_or_else(|| Slot::current(previous, "ActivePlaybackKey"));
    let public_key = pipe(
        Command::new("openssl").args(["pkey", "-pubout"]),
        Some(private_key),
    )?;
    let mut parameters = Parameters::from([
        ("ActivePlaybackKey".into(), slot.name().into()),
        (
            format!("PlaybackKey{}", slot.title()),
            public_key.trim().into(),
        ),
    ]);
    if env_flag("CLOUDFRONT_RETIRE_OTHER_KEY")? {
        parameters.insert(
            format!("PlaybackKey{}", slot.other().title()),
            String::new(),
        );
    }
    Ok(parameters)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parameters(pairs: &[(&str, &str)]) -> Parameters {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn signer_keys_move_slot_first_and_retire_the_old_one_after() {
        let first_deploy = SignerRequest::default()
            .parameters(&Parameters::new())
            .unwrap();
        assert_eq!(
            first_deploy,
            parameters(&[
                ("ActiveEdgeSignerKey", "blue"),
                ("EdgeSignerKeyBlueStatus", "Active")
            ])
        );
        let on_blue = parameters(&[("ActiveEdgeSignerKey", "blue")]);
        let fill_green = SignerRequest {
            slot: Some(Slot::Green),
            other: None,
        };
        assert_eq!(
            fill_green.parameters(&on_blue).unwrap(),
            parameters(&[
                ("ActiveEdgeSignerKey", "green"),
                ("EdgeSignerKeyGreenStatus", "Active")
            ])
        );
        let too_soon = SignerRequest {
            slot: Some(Slot::Green),
            other: Some("Empty"),
        };
        assert!(
            too_soon
                .parameters(&on_blue)
                .unwrap_err()
                .contains("EDGE_SIGNER_KEY_SLOT=green first")
        );
        let on_green = parameters(&[("ActiveEdgeSignerKey", "green")]);
        let retire_blue = SignerRequest {
            slot: None,
            other: Some("Empty"),
        };
        assert_eq!(
            retire_blue.parameters(&on_green).unwrap(),
            parameters(&[
                ("ActiveEdgeSignerKey", "green"),
                ("EdgeSignerKeyBlueStatus", "Empty"),
                ("EdgeSignerKeyGreenStatus", "Active"),
            ])
        );
        // Refilling the emptied blue slot later is the same move back.
        let refill_blue = SignerRequest {
            slot: Some(Slot::Blue),
            other: None,
        };
        assert_eq!(
            refill_blue.parameters(&on_green).unwrap(),
            parameters(&[
                ("ActiveEdgeSignerKey", "blue"),
                ("EdgeSignerKeyBlueStatus", "Active")
            ])
        );
    }

    #[test]
    fn a_webhook_rotation_fills_the_free_slot_then_moves_the_origin() {
        assert_eq!(
            WebhookPlan::new(&Parameters::new(), false),
            WebhookPlan {
                first: Parameters::new(),
                second: None
            }
        );
        assert_eq!(
            WebhookPlan::new(&Parameters::new(), true),
            WebhookPlan {
                first: parameters(&[("WebhookSecretGreenStatus", "Filled")]),
                second: Some(parameters(&[
                    ("ActiveWebhookSecret", "green"),
                    ("WebhookSecretBlueStatus", "Empty"),
                ])),
            }
        );
        let on_green = parameters(&[("ActiveWebhookSecret", "green")]);
        assert_eq!(
            WebhookPlan::new(&on_green, true).second,
            Some(parameters(&[
                ("ActiveWebhookSecret", "blue"),
                ("WebhookSecretGreenStatus", "Empty"),
            ]))
        );
    }

    #[test]
    fn during_a_rotation_the_worker_gets_the_new_secret_and_keeps_the_old() {
        let settled = BTreeMap::from([("WebhookSecretArn".to_string(), "arn:blue".to_string())]);
        assert_eq!(
            webhook_secret_arns(&settled).unwrap(),
            ("arn:blue".to_string(), None)
        );
        let mut rotating = settled.clone();
        rotating.insert("WebhookSecretPendingArn".into(), "arn:green".into());
        assert_eq!(
            webhook_secret_arns(&rotating).unwrap(),
            ("arn:green".to_string(), Some("arn:blue".to_string()))
        );
    }
}
