/** Where the driver lives, for code that must load it itself (a worker thread). */
export const driverPath = (): string => require.resolve('better-sqlite3');
