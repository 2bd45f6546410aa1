//! The library: list, get and delete videos, and who may see which.

use crate::api::{Done, VideoBody, VideoView};
use crate::app::App;
use crate::catalog::{ListCursor, VideoRow};
use crate::error::{Error, ErrorCode, Result};
use crate::playback;
use crate::ports::Platform;
use crate::request::{Caller, Ctx};
use crate::respond::{self, Reply};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::StatusCode;
use model::storage::KeyPrefix;
use model::{Timestamp, VideoId};
use serde::Serialize;

const DEFAULT_PAGE: u32 = 20;
const MAX_PAGE: u32 = 100;

/// The video if the caller may see it: its owner, or an admin. Others get 404 so that ids
/// of other people's videos reveal nothing.
pub async fn visible_video<P: Platform>(
    app: &App<P>,
    id: &VideoId,
    caller: &Caller,
) -> Result<VideoRow> {
    match app.catalog().video(id).await? {
        Some(video) if video.owner == caller.id || caller.is_admin() => Ok(video),
        _ => Err(Error::not_found("video")),
    }
}

/// The video if the caller uploads it: only its owner may sign, list, complete or abort.
pub async fn owned_video<P: Platform>(
    app: &App<P>,
    id: &VideoId,
    caller: &Caller,
) -> Result<VideoRow> {
    let video = visible_video(app, id, caller).await?;
    if video.owner != caller.id {
        return Err(Error::forbidden("only the uploader can do this"));
    }
    Ok(video)
}

pub fn get<P: Platform>(app: &App<P>, ctx: &Ctx<'_>, video: &VideoRow) -> Reply {
    let poster = playback::poster_url(&app.config, ctx, video);
    respond::success(
        StatusCode::OK,
        &VideoBody {
            video: VideoView::with_poster(video, poster),
        },
    )
}

/// Takes the row, then every object of the video in both buckets (the row comes back if
/// they cannot go, so no object is left that no row names). Deleting a video that is
/// already gone succeeds: DELETE is idempotent.
pub async fn delete<P: Platform>(
    app: &App<P>,
    ctx: &Ctx<'_>,
    id: &VideoId,
    caller: &Caller,
) -> Result<Reply> {
    let catalog = app.catalog();
    match catalog
        .take_video(id, &caller.id, caller.is_admin(), None)
        .await?
    {
        Some(video) => remove_video_objects(app, ctx.now, &video).await?,
        // Gone already, or someone else's: only a read tells which.
        None if catalog.video(id).await?.is_some() => return Err(Error::not_found("video")),
        None => {}
    }
    Ok(respond::success(StatusCode::OK, &Done {}))
}

/// The objects of a video whose row [`crate::catalog::Catalog::take_video`] took: when they
/// cannot all go, the row is put back and the failure answered, so a retry finds it.
pub async fn remove_video_objects<P: Platform>(
    app: &App<P>,
    now: Timestamp,
    video: &VideoRow,
) -> Result<()> {
    if let Err(error) = remove_objects(app, now, video).await {
        app.catalog().restore_video(video).await?;
        return Err(error);
    }
    Ok(())
}

/// Every object of a video in both buckets, and its multipart upload if one is open.
pub async fn remove_objects<P: Platform>(
    app: &App<P>,
    now: Timestamp,
    video: &VideoRow,
) -> Result<()> {
    let storage = app.storage(now);
    // An upload can still be open whatever the status (a failed event may end an upload).
    if let Some(upload_id) = video.upload_id.as_deref() {
        storage
            .abort_multipart_upload(&app.config.incoming_bucket, &video.source_key, upload_id)
            .await?;
    }
    storage
        .delete_prefix(&app.config.incoming_bucket, &KeyPrefix::sources(&video.id))
        .await?;
    storage
        .delete_prefix(&app.config.media_bucket, &KeyPrefix::outputs(&video.id))
        .await
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Page<'a> {
    videos: Vec<VideoView<'a>>,
    next_cursor: Option<String>,
}

pub async fn list<P: Platform>(app: &App<P>, ctx: &Ctx<'_>, caller: &Caller) -> Result<Reply> {
    let limit = match ctx.query("limit") {
        None => DEFAULT_PAGE,
        Some(text) => text
            .parse()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| {
                Error::invalid(format!("limit must be a whole number from 1 to {MAX_PAGE}"))
            })?,
    };
    let after = match ctx.query("cursor").filter(|c| !c.is_empty()) {
        None => None,
        Some(text) => Some(decode_cursor(&text).ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidCursor,
                "cursor is not one this API returned",
            )
        })?),
    };
    let owner = (!caller.is_admin()).then_some(&caller.id);
    let mut rows = app
        .catalog()
        .list_videos(owner, after.as_ref(), limit + 1)
        .await?;
    let next_cursor = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|last| {
            encode_cursor(&ListCursor {
                created_at: last.created_at,
                id: last.id.clone(),
            })
        })
    } else {
        None
    };
    Ok(respond::success(
        StatusCode::OK,
        &Page {
            videos: rows
                .iter()
                .map(|row| VideoView::with_poster(row, playback::poster_url(&app.config, ctx, row)))
                .collect(),
            next_cursor,
        },
    ))
}

/// The `nextCursor` of a page that ends at `cursor` (public for the fuzz targets).
pub fn encode_cursor(cursor: &ListCursor) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{}", cursor.created_at.unix_ms(), cursor.id))
}

/// The position a client's `cursor` names; `None` for text no page ever returned.
pub fn decode_cursor(text: &str) -> Option<ListCursor> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(text).ok()?).ok()?;
    let (time, id) = raw.split_once(':')?;
    Some(ListCursor {
        created_at: Timestamp::from_unix_ms(time.parse().ok()?),
        id: VideoId::parse(id).ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_forgeries() {
        let cursor = ListCursor {
            created_at: Timestamp::from_unix_ms(1_700_000_000_123),
            id: VideoId::new(Timestamp::from_unix_ms(1_700_000_000_123), [3; 10]),
        };
        assert_eq!(decode_cursor(&encode_cursor(&cursor)), Some(cursor));
        for bad in [
            "",
            "!!",
            "bm90LWEtY3Vyc29y",
            &URL_SAFE_NO_PAD.encode("12:not-an-id"),
        ] {
            assert_eq!(decode_cursor(bad), None, "{bad:?}");
        }
    }
}
