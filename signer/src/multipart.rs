//! How an upload is cut into S3 multipart parts.

use std::ops::Range;

use crate::{Error, Result};

pub const MIB: u64 = 1024 * 1024;
/// Our smallest part: fewer requests than S3's minimum, still small enough to retry cheaply.
pub const MIN_PART_SIZE: u64 = 8 * MIB;
/// S3's smallest part (except the last one).
pub const S3_MIN_PART_SIZE: u64 = 5 * MIB;
/// S3's largest part number.
pub const MAX_PARTS: u16 = 10_000;
/// S3's largest object, and our default upload limit.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 5 * 1024 * 1024 * MIB;

/// A file's split into parts: every part has `part_size` bytes except the last, which has the
/// rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MultipartPlan {
    file_size: u64,
    part_size: u64,
    part_count: u16,
}

impl MultipartPlan {
    /// Part size = max(8 MiB, ceil(file_size / 10 000) rounded up to a whole MiB), so any file
    /// up to S3's 5 TiB fits in 10 000 parts. Errors for an empty file and for one above
    /// `max_upload_bytes` (or above S3's 5 TiB, whatever the limit says).
    pub fn new(file_size: u64, max_upload_bytes: u64) -> Result<Self> {
        let max = max_upload_bytes.min(DEFAULT_MAX_UPLOAD_BYTES);
        if file_size == 0 {
            return Err(Error::EmptyUpload);
        }
        if file_size > max {
            return Err(Error::UploadTooLarge {
                size: file_size,
                max,
            });
        }
        let per_part = file_size.div_ceil(u64::from(MAX_PARTS));
        let part_size = per_part
            .div_ceil(MIB)
            .saturating_mul(MIB)
            .max(MIN_PART_SIZE);
        let part_count = u16::try_from(file_size.div_ceil(part_size))
            .expect("part_size ≥ file_size / 10 000, so there are at most 10 000 parts");
        Ok(Self {
            file_size,
            part_size,
            part_count,
        })
    }

    pub fn file_size(&self) -> u64 {
        self.file_size
    }

    pub fn part_size(&self) -> u64 {
        self.part_size
    }

    pub fn part_count(&self) -> u16 {
        self.part_count
    }

    /// The byte range of part `part_number` (1-based, as S3 numbers parts).
    pub fn part_range(&self, part_number: u16) -> Result<Range<u64>> {
        if part_number == 0 || part_number > self.part_count {
            return Err(Error::PartOutOfRange {
                part_number,
                part_count: self.part_count,
            });
        }
        let start = u64::from(part_number - 1) * self.part_size;
        let end = (start + self.part_size).min(self.file_size);
        Ok(start..end)
    }

    /// The length of part `part_number` (1-based).
    pub fn part_len(&self, part_number: u16) -> Result<u64> {
        self.part_range(part_number)
            .map(|range| range.end - range.start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_files_use_the_minimum_part_size() {
        let plan = MultipartPlan::new(1, DEFAULT_MAX_UPLOAD_BYTES).unwrap();
        assert_eq!((plan.part_size(), plan.part_count()), (MIN_PART_SIZE, 1));
        assert_eq!(plan.part_range(1).unwrap(), 0..1);

        let plan = MultipartPlan::new(100 * MIB + 1, DEFAULT_MAX_UPLOAD_BYTES).unwrap();
        assert_eq!((plan.part_size(), plan.part_count()), (8 * MIB, 13));
        assert_eq!(plan.part_len(13).unwrap(), 100 * MIB + 1 - 12 * 8 * MIB);
    }

    #[test]
    fn large_files_grow_the_part_size_in_whole_mib() {
        // 100 GiB / 10 000 = 10.24 MiB → 11 MiB.
        let plan = MultipartPlan::new(100 * 1024 * MIB, DEFAULT_MAX_UPLOAD_BYTES).unwrap();
        assert_eq!(plan.part_size(), 11 * MIB);
        assert_eq!(plan.part_count(), 9310);

        let plan = MultipartPlan::new(DEFAULT_MAX_UPLOAD_BYTES, DEFAULT_MAX_UPLOAD_BYTES).unwrap();
        assert_eq!(plan.part_size(), 525 * MIB);
        assert!(plan.part_count() <= MAX_PARTS);
        assert_eq!(
            plan.part_range(plan.part_count()).unwrap().end,
            DEFAULT_MAX_UPLOAD_BYTES
        );
    }

    #[test]
    fn refuses_empty_and_oversized_uploads() {
        assert_eq!(MultipartPlan::new(0, 10), Err(Error::EmptyUpload));
        assert_eq!(
            MultipartPlan::new(11, 10),
            Err(Error::UploadTooLarge { size: 11, max: 10 })
        );
        // A limit above S3's own cannot make S3 accept more.
        assert_eq!(
            MultipartPlan::new(DEFAULT_MAX_UPLOAD_BYTES + 1, u64::MAX),
            Err(Error::UploadTooLarge {
                size: DEFAULT_MAX_UPLOAD_BYTES + 1,
                max: DEFAULT_MAX_UPLOAD_BYTES
            })
        );
    }

    #[test]
    fn refuses_part_numbers_outside_the_plan() {
        let plan = MultipartPlan::new(20 * MIB, DEFAULT_MAX_UPLOAD_BYTES).unwrap();
        assert_eq!(plan.part_count(), 3);
        for part_number in [0, 4, u16::MAX] {
            assert_eq!(
                plan.part_range(part_number),
                Err(Error::PartOutOfRange {
                    part_number,
                    part_count: 3
                })
            );
            assert!(plan.part_len(part_number).is_err());
        }
        assert_eq!(plan.part_len(3).unwrap(), 4 * MIB);
    }
}
