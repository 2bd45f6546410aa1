//! Claims on uploads: the origin converts an upload only when the catalog expects it, and
//! only once.

use super::Catalog;
use crate::error::Result;
use crate::ports::Database;
use model::Timestamp;
use model::claim::{Claim, ClaimAnswer};
use serde::Deserialize;

impl<D: Database> Catalog<'_, D> {
    /// Claims `claim`'s upload for conversion, in one statement: the video must exist with
    /// this source key and size, be uploading or processing (an upload S3 holds whole is done
    /// uploading: the claim moves it on), and hold no claim by another upload. The first claim
    /// of an upload is `Granted`; the same upload again is `Held`, with the job recorded for
    /// it so far. A job id in the claim is recorded.
    pub async fn claim(&self, claim: &Claim, now: Timestamp) -> Result<ClaimAnswer> {
        #[derive(Deserialize)]
        struct Claimed {
            claimed_at: i64,
            job_id: Option<String>,
        }
        let claimed: Option<Claimed> = self
            .one(
                "UPDATE videos SET status = 'processing', progress = COALESCE(progress, 0), \
                   upload_id = NULL, claim_token = ?4, claimed_at = COALESCE(claimed_at, ?5), \
                   job_id = COALESCE(?6, job_id), updated_at = ?5 \
                 WHERE id = ?1 AND source_key = ?2 AND file_size = ?3 \
                   AND status IN ('uploading', 'processing') \
                   AND (claim_token IS NULL OR claim_token = ?4) \
                 RETURNING claimed_at, job_id",
                &[
                    (&claim.video_id).into(),
                    (&claim.key).into(),
                    claim.size.into(),
                    claim.token.as_str().into(),
                    now.into(),
                    claim.job_id.clone().into(),
                ],
            )
            .await?;
        Ok(match claimed {
            Some(claimed) if claimed.claimed_at == now.unix_ms() && claim.job_id.is_none() => {
                ClaimAnswer::Granted
            }
            Some(claimed) => ClaimAnswer::Held {
                job_id: claimed.job_id,
            },
            None => ClaimAnswer::NotExpected {
                reason: self.why_not_expected(claim).await?,
            },
        })
    }

    /// Why a claim was refused, for the origin's log.
    async fn why_not_expected(&self, claim: &Claim) -> Result<String> {
        let Some(video) = self.video(&claim.video_id).await? else {
            return Ok("no such video (never created, or deleted)".into());
        };
        Ok(if video.source_key != claim.key {
            format!(
                "the video's source is {}, not {}",
                video.source_key, claim.key
            )
        } else if video.file_size != claim.size {
            format!(
                "{} bytes were uploaded but the video declared {}",
                claim.size, video.file_size
            )
        } else if !matches!(
            video.status,
            model::VideoStatus::Uploading | model::VideoStatus::Processing
        ) {
            format!("the video is {} already", video.status)
        } else {
            "another upload of this key was claimed first".into()
        })
    }
}
