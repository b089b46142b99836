// Types of platform-suites.js, plain JavaScript so that jest.config.js can load it.
export interface Need {
  on: string[]
  why: string
}
export declare const NEEDS: Record<string, Need>
export declare const SUITES: Record<string, string[]>
export declare function suitesLeftOut(platform: string): Array<{ suite: string; lacks: string[] }>
export declare function ignorePattern(suite: string): string
export declare function leftOutNotice(platform: string, leftOut?: Array<{ suite: string; lacks: string[] }>): string
