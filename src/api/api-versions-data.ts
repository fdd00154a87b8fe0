// Placeholder until the research helper writes the full list.
export const CURRENT_API_VERSION = '2026-10-28.endive';
export const PUBLISHED_API_VERSIONS: readonly string[] = ['2020-08-27', '2022-11-15', '2023-08-16', '2023-10-16', '2024-06-20', '2026-06-24.dahlia', '2026-10-28.endive'];
