// Human-readable names, sizes, rates and durations for the upload rows, the library and the player.

const BYTE_UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

/** Decimal units (1 MB = 1,000,000 bytes), as file managers show them. */
export function formatBytes(bytes) {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < BYTE_UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${BYTE_UNITS[unit]}`;
}

export function formatRate(bytesPerSecond) {
  return `${formatBytes(bytesPerSecond)}/s`;
}

/** Media length as m:ss or h:mm:ss. */
export function formatDuration(milliseconds) {
  const total = Math.round(milliseconds / 1000);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return hours ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}

/** A rough estimate reads better than a precise one that jumps every second. */
export function formatTimeLeft(seconds) {
  if (seconds < 60) return `${Math.max(1, Math.ceil(seconds))} s left`;
  if (seconds < 3600) return `${Math.ceil(seconds / 60)} min left`;
  return `about ${Math.round(seconds / 3600)} h left`;
}

/** What to call a video: its title, or the file name for one uploaded without a title. */
export function videoName(video) {
  return video.title || video.fileName;
}

/** A playhead position as m:ss or h:mm:ss, counting whole seconds played (as players do). */
export function formatClock(seconds) {
  return formatDuration(Math.floor(Number.isFinite(seconds) ? Math.max(0, seconds) : 0) * 1000);
}
