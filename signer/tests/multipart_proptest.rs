//! The multipart planner's invariants for any size up to 5 TiB: parts cover every byte
//! exactly once, in order; there are at most 10 000; every part but the last is at least
//! S3's 5 MiB minimum; the part size is the documented formula.

use proptest::prelude::*;
use signer::multipart::{
    DEFAULT_MAX_UPLOAD_BYTES, MAX_PARTS, MIB, MIN_PART_SIZE, MultipartPlan, S3_MIN_PART_SIZE,
};

fn sizes() -> impl Strategy<Value = u64> {
    prop_oneof![
        1..=64 * MIB,
        1..=DEFAULT_MAX_UPLOAD_BYTES,
        // Around the boundaries where the part size starts to grow.
        (MIN_PART_SIZE * u64::from(MAX_PARTS) - MIB)..=(MIN_PART_SIZE * u64::from(MAX_PARTS) + MIB),
        (DEFAULT_MAX_UPLOAD_BYTES - MIB)..=DEFAULT_MAX_UPLOAD_BYTES,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parts_tile_the_file(size in sizes()) {
        let plan = MultipartPlan::new(size, DEFAULT_MAX_UPLOAD_BYTES).unwrap();
        prop_assert!(plan.part_count() >= 1 && plan.part_count() <= MAX_PARTS);
        let expected_size = size.div_ceil(u64::from(MAX_PARTS)).div_ceil(MIB) * MIB;
        prop_assert_eq!(plan.part_size(), expected_size.max(MIN_PART_SIZE));

        let mut next = 0;
        for part in 1..=plan.part_count() {
            let range = plan.part_range(part).unwrap();
            prop_assert_eq!(range.start, next);
            prop_assert!(range.end > range.start);
            prop_assert_eq!(plan.part_len(part).unwrap(), range.end - range.start);
            if part < plan.part_count() {
                prop_assert!(range.end - range.start >= S3_MIN_PART_SIZE);
                prop_assert_eq!(range.end - range.start, plan.part_size());
            }
            next = range.end;
        }
        prop_assert_eq!(next, size);
        prop_assert!(plan.part_range(plan.part_count() + 1).is_err());
    }

    #[test]
    fn sizes_above_the_limit_are_refused(limit in 1..=DEFAULT_MAX_UPLOAD_BYTES, excess in 1..=MIB) {
        prop_assert!(MultipartPlan::new(limit + excess, limit).is_err());
        prop_assert!(MultipartPlan::new(limit, limit).is_ok());
    }
}
