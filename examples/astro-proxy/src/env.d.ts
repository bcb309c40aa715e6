declare namespace App {
  interface Locals {
    /** The origin-wide number of this render (1, 2, ...), from src/middleware.ts. */
    render: number;
    /** When this render started, ISO 8601. */
    renderedAt: string;
  }
}
