'use client';

import { useEffect, useState } from 'react';

/** A client component: a like counter. Its effect records when the page became interactive (hydration). */
export function LikeButton({ start }: { start: number }) {
  const [likes, setLikes] = useState(start);
  useEffect(() => {
    (window as unknown as { __hydratedAt?: number }).__hydratedAt = performance.now();
  }, []);
  return (
    <button type="button" id="like" onClick={() => setLikes(likes + 1)}>
      {likes} likes
    </button>
  );
}
