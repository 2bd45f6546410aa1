//! The multipart planner's arithmetic, with sizes drawn mostly where it can go wrong: near
//! 5 TiB, near where the part size starts to grow (8 MiB x 10,000 parts), and at whole-MiB
//! part-size steps. A plan has 1 to 10,000 parts of the documented size that tile the file
//! exactly; sizes over the limit, or 0, are refused.

use signer::multipart::{
    DEFAULT_MAX_UPLOAD_BYTES, MAX_PARTS, MIB, MIN_PART_SIZE, MultipartPlan, S3_MIN_PART_SIZE,
};

use crate::input::take_u64;

pub fn multipart_plan(data: &[u8]) {
    let (choice, rest) = take_u64(data);
    let (offset, rest) = take_u64(rest);
    let (limit, _) = take_u64(rest);
    let parts = u64::from(MAX_PARTS);
    let near = |anchor: u64| {
        anchor
            .saturating_sub(MIB)
            .saturating_add(offset % (2 * MIB + 1))
    };
    let size = match choice % 5 {
        0 => near(DEFAULT_MAX_UPLOAD_BYTES),
        1 => near(MIN_PART_SIZE * parts),
        // Where ceil(size / 10,000) crosses a whole MiB: the part size steps up.
        2 => near((offset % 524 + 8) * MIB * parts),
        3 => offset % (DEFAULT_MAX_UPLOAD_BYTES + 1),
        _ => offset,
    };
    let limit = match limit % 3 {
        0 => DEFAULT_MAX_UPLOAD_BYTES,
        1 => size,
        _ => limit,
    };
    let allowed = limit.min(DEFAULT_MAX_UPLOAD_BYTES);
    let plan = match MultipartPlan::new(size, limit) {
        Ok(plan) => plan,
        Err(_) => {
            assert!(
                size == 0 || size > allowed,
                "{size} refused under a limit of {limit}"
            );
            return;
        }
    };
    assert!(
        size > 0 && size <= allowed,
        "{size} accepted under a limit of {limit}"
    );
    let count = plan.part_count();
    assert!((1..=MAX_PARTS).contains(&count), "{size}: {count} parts");
    let formula = size.div_ceil(parts).div_ceil(MIB) * MIB;
    assert_eq!(plan.part_size(), formula.max(MIN_PART_SIZE), "{size}");
    let mut next = 0;
    for number in 1..=count {
        let range = plan.part_range(number).expect("a part of the plan");
        assert_eq!(range.start, next, "{size}: part {number}");
        assert!(range.end > range.start, "{size}: part {number} is empty");
        assert_eq!(plan.part_len(number), Ok(range.end - range.start));
        if number < count {
            assert_eq!(range.end - range.start, plan.part_size());
            assert!(plan.part_size() >= S3_MIN_PART_SIZE);
        }
        next = range.end;
    }
    assert_eq!(next, size, "the parts cover {next} of {size} bytes");
    assert!(plan.part_range(0).is_err() && plan.part_range(count.saturating_add(1)).is_err());
}
