/** The closed set of environments a platform is deployed as; `local` is the embedded emulator. */
export const ENVIRONMENT_NAMES = ['local', 'dev', 'staging', 'prod'] as const;
export type EnvironmentName = (typeof ENVIRONMENT_NAMES)[number];
