'use client';

import { useState } from 'react';

/** A client component: the count changes only once React has hydrated the page. */
export function Counter() {
  const [count, setCount] = useState(0);
  return (
    <button id="counter" type="button" onClick={() => setCount(count + 1)}>
      Clicked {count} times
    </button>
  );
}
