import fc from 'fast-check';
import {
  gridPointArb,
  gridScaleArb,
  gridSegmentArb,
  gridShiftArb,
  pointArb,
  scalePoint,
  segmentArb,
  translatePoint,
  realArb,
} from './geometry.arbitraries';
import { GEOMETRY_EPSILON, type Point, type Segment } from './geometry.types';
import { SIDE, distancePointToSegment, segmentIntersection, segmentsIntersect, sideOfLine } from './segment.geometry';

const reverse = (s: Segment): Segment => [s[1], s[0]];
const mapSegment = (s: Segment, f: (p: Point) => Point): Segment => [f(s[0]), f(s[1])];

/** Line pointing right across the middle of the frame. */
const EAST: Segment = [
  [0.1, 0.5],
  [0.9, 0.5],
];

describe('sideOfLine', () => {
  it('puts points below a rightward line on its RIGHT (y grows downwards) and above on its LEFT', () => {
    expect(sideOfLine([0.5, 0.9], EAST)).toBe(SIDE.RIGHT);
    expect(sideOfLine([0.5, 0.1], EAST)).toBe(SIDE.LEFT);
    expect(SIDE.RIGHT).toBe(1);
    expect(SIDE.LEFT).toBe(-1);
  });

  it('judges the infinite line, not only the segment', () => {
    expect(sideOfLine([5, 0.6], EAST)).toBe(SIDE.RIGHT);
    expect(sideOfLine([-3, 0.4], EAST)).toBe(SIDE.LEFT);
  });

  it('returns ON for points on the line and within the tolerance of it', () => {
    expect(sideOfLine([0.5, 0.5], EAST)).toBe(SIDE.ON);
    expect(sideOfLine([0.5, 0.5 + GEOMETRY_EPSILON / 2], EAST)).toBe(SIDE.ON);
    expect(sideOfLine([0.5, 0.5 + GEOMETRY_EPSILON * 10], EAST)).toBe(SIDE.RIGHT);
    // A point computed onto a diagonal line (rounding off by ~1e-17) must not flip sides.
    const diagonal: Segment = [
      [0.1, 0.2],
      [0.7, 0.9],
    ];
    const t = 0.3;
    const onIt: Point = [0.1 + t * 0.6, 0.2 + t * 0.7];
    expect(sideOfLine(onIt, diagonal)).toBe(SIDE.ON);
  });

  it('accepts a wider dead band', () => {
    expect(sideOfLine([0.5, 0.504], EAST, 0.005)).toBe(SIDE.ON);
    expect(sideOfLine([0.5, 0.506], EAST, 0.005)).toBe(SIDE.RIGHT);
  });

  it('gives a degenerate line no sides', () => {
    expect(
      sideOfLine(
        [0.9, 0.1],
        [
          [0.5, 0.5],
          [0.5, 0.5],
        ],
      ),
    ).toBe(SIDE.ON);
  });

  it('flips when the line is reversed (property)', () => {
    fc.assert(
      fc.property(pointArb, segmentArb, (p, line) => {
        // Sum instead of negation: -0 and 0 differ for toBe.
        expect(sideOfLine(p, reverse(line)) + sideOfLine(p, line)).toBe(0);
      }),
    );
  });

  it('is invariant under translation and positive scaling, e.g. normalised -> pixels (property)', () => {
    fc.assert(
      fc.property(gridPointArb, gridSegmentArb, gridShiftArb, gridShiftArb, gridScaleArb, (p, line, dx, dy, k) => {
        const expected = sideOfLine(p, line);
        const moved = (q: Point): Point => translatePoint(q, dx, dy);
        const scaled = (q: Point): Point => scalePoint(q, k);
        expect(sideOfLine(moved(p), mapSegment(line, moved))).toBe(expected);
        expect(sideOfLine(scaled(p), mapSegment(line, scaled))).toBe(expected);
      }),
    );
  });
});

describe('distancePointToSegment', () => {
  it('measures to the perpendicular foot inside the segment', () => {
    expect(distancePointToSegment([0.5, 0.8], EAST)).toBeCloseTo(0.3, 12);
  });

  it('measures to the nearest endpoint beyond the segment', () => {
    expect(distancePointToSegment([1.2, 0.9], EAST)).toBeCloseTo(0.5, 12);
    expect(distancePointToSegment([0.1, 0.5], EAST)).toBe(0);
  });

  it('treats a zero-length segment as a point', () => {
    expect(
      distancePointToSegment(
        [0.3, 0.4],
        [
          [0, 0],
          [0, 0],
        ],
      ),
    ).toBeCloseTo(0.5, 12);
  });

  it('is never more than the distance to either endpoint nor less than the distance to the line (property)', () => {
    fc.assert(
      fc.property(pointArb, segmentArb, (p, s) => {
        const d = distancePointToSegment(p, s);
        const [a, b] = s;
        expect(d).toBeLessThanOrEqual(Math.hypot(p[0] - a[0], p[1] - a[1]) + 1e-12);
        expect(d).toBeLessThanOrEqual(Math.hypot(p[0] - b[0], p[1] - b[1]) + 1e-12);
        const length = Math.hypot(b[0] - a[0], b[1] - a[1]);
        if (length > 1e-6) {
          const toLine = Math.abs((b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])) / length;
          expect(d).toBeGreaterThanOrEqual(toLine - 1e-9);
        }
      }),
    );
  });
});

describe('segmentsIntersect / segmentIntersection', () => {
  const cases: { name: string; s1: Segment; s2: Segment; expected: Point | null }[] = [
    {
      name: 'proper X crossing',
      s1: [
        [0, 0],
        [1, 1],
      ],
      s2: [
        [0, 1],
        [1, 0],
      ],
      expected: [0.5, 0.5],
    },
    {
      name: 'T-junction (endpoint on the other)',
      s1: [
        [0.5, 0],
        [0.5, 0.5],
      ],
      s2: [
        [0, 0.5],
        [1, 0.5],
      ],
      expected: [0.5, 0.5],
    },
    {
      name: 'shared endpoint',
      s1: [
        [0, 0],
        [0.5, 0.5],
      ],
      s2: [
        [0.5, 0.5],
        [1, 0],
      ],
      expected: [0.5, 0.5],
    },
    {
      name: 'collinear overlap',
      s1: [
        [0, 0],
        [0.6, 0],
      ],
      s2: [
        [0.4, 0],
        [1, 0],
      ],
      expected: [0.4, 0],
    },
    {
      name: 'collinear containment',
      s1: [
        [0, 0.2],
        [1, 0.2],
      ],
      s2: [
        [0.3, 0.2],
        [0.7, 0.2],
      ],
      expected: [0.3, 0.2],
    },
    {
      name: 'collinear touching end to end',
      s1: [
        [0, 0],
        [0.5, 0],
      ],
      s2: [
        [0.5, 0],
        [1, 0],
      ],
      expected: [0.5, 0],
    },
    {
      name: 'collinear with a gap',
      s1: [
        [0, 0],
        [0.4, 0],
      ],
      s2: [
        [0.6, 0],
        [1, 0],
      ],
      expected: null,
    },
    {
      name: 'parallel, apart',
      s1: [
        [0, 0],
        [1, 0],
      ],
      s2: [
        [0, 0.1],
        [1, 0.1],
      ],
      expected: null,
    },
    {
      name: 'lines cross beyond the segments',
      s1: [
        [0, 0],
        [0.2, 0.2],
      ],
      s2: [
        [0, 1],
        [1, 0],
      ],
      expected: null,
    },
    {
      name: 'near miss beyond the tolerance',
      s1: [
        [0.5, 0],
        [0.5, 0.5 - 1e-7],
      ],
      s2: [
        [0, 0.5],
        [1, 0.5],
      ],
      expected: null,
    },
    {
      name: 'near miss within the tolerance',
      s1: [
        [0.5, 0],
        [0.5, 0.5 - GEOMETRY_EPSILON / 2],
      ],
      s2: [
        [0, 0.5],
        [1, 0.5],
      ],
      expected: [0.5, 0.5 - GEOMETRY_EPSILON / 2],
    },
  ];

  it.each(cases)('$name', ({ s1, s2, expected }) => {
    expect(segmentsIntersect(s1, s2)).toBe(expected !== null);
    expect(segmentsIntersect(s2, s1)).toBe(expected !== null);
    const point = segmentIntersection(s1, s2);
    if (expected === null) {
      expect(point).toBeNull();
    } else {
      expect(point).not.toBeNull();
      expect(point![0]).toBeCloseTo(expected[0], 12);
      expect(point![1]).toBeCloseTo(expected[1], 12);
    }
  });

  it('returns the first point of contact along s1 for a collinear overlap', () => {
    const line: Segment = [
      [0.4, 0],
      [1, 0],
    ];
    expect(
      segmentIntersection(
        [
          [0, 0],
          [0.6, 0],
        ],
        line,
      ),
    ).toEqual([0.4, 0]);
    expect(
      segmentIntersection(
        [
          [0.6, 0],
          [0, 0],
        ],
        line,
      ),
    ).toEqual([0.6, 0]);
    expect(
      segmentIntersection(
        [
          [0.8, 0],
          [0.5, 0],
        ],
        line,
      ),
    ).toEqual([0.8, 0]);
  });

  it('handles zero-length segments as points', () => {
    expect(
      segmentsIntersect(
        [
          [0.5, 0.5],
          [0.5, 0.5],
        ],
        [
          [0, 0],
          [1, 1],
        ],
      ),
    ).toBe(true);
    expect(
      segmentsIntersect(
        [
          [0.5, 0.6],
          [0.5, 0.6],
        ],
        [
          [0, 0],
          [1, 1],
        ],
      ),
    ).toBe(false);
    expect(
      segmentIntersection(
        [
          [0.5, 0.5],
          [0.5, 0.5],
        ],
        [
          [0.5, 0.5],
          [0.5, 0.5],
        ],
      ),
    ).toEqual([0.5, 0.5]);
  });

  it('is symmetric: argument order and endpoint order do not matter (property)', () => {
    fc.assert(
      fc.property(segmentArb, segmentArb, (s1, s2) => {
        const expected = segmentsIntersect(s1, s2);
        expect(segmentsIntersect(s2, s1)).toBe(expected);
        expect(segmentsIntersect(reverse(s1), s2)).toBe(expected);
        expect(segmentsIntersect(s1, reverse(s2))).toBe(expected);
        expect(segmentsIntersect(reverse(s2), reverse(s1))).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('agrees with segmentIntersection, whose point lies on both segments (property)', () => {
    fc.assert(
      fc.property(segmentArb, segmentArb, (s1, s2) => {
        const point = segmentIntersection(s1, s2);
        expect(point !== null).toBe(segmentsIntersect(s1, s2));
        if (point !== null) {
          expect(distancePointToSegment(point, s1)).toBeLessThanOrEqual(1e-9);
          expect(distancePointToSegment(point, s2)).toBeLessThanOrEqual(1e-9);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('finds a crossing constructed through a point of both segments (property)', () => {
    const fraction = realArb(0.01, 0.99);
    fc.assert(
      fc.property(segmentArb, pointArb, fraction, fraction, (line, far, t, u) => {
        fc.pre(Math.hypot(line[1][0] - line[0][0], line[1][1] - line[0][1]) > 1e-3);
        const hit: Point = [line[0][0] + t * (line[1][0] - line[0][0]), line[0][1] + t * (line[1][1] - line[0][1])];
        fc.pre(Math.hypot(far[0] - hit[0], far[1] - hit[1]) > 1e-3);
        // `far` on the line's own extension would make a collinear overlap, whose first contact is not `hit`.
        fc.pre(sideOfLine(far, line, 1e-3) !== SIDE.ON);
        // A movement segment from `far` through `hit` and beyond it.
        const end: Point = [hit[0] + (u / (1 - u)) * (hit[0] - far[0]), hit[1] + (u / (1 - u)) * (hit[1] - far[1])];
        const movement: Segment = [far, end];
        expect(segmentsIntersect(movement, line)).toBe(true);
        const point = segmentIntersection(movement, line);
        expect(point).not.toBeNull();
        expect(Math.hypot(point![0] - hit[0], point![1] - hit[1])).toBeLessThanOrEqual(1e-6);
      }),
    );
  });

  it('a segment crossing a line has its off-line endpoints on opposite sides (property)', () => {
    fc.assert(
      fc.property(segmentArb, segmentArb, (movement, line) => {
        const before = sideOfLine(movement[0], line);
        const after = sideOfLine(movement[1], line);
        if (segmentsIntersect(movement, line) && before !== SIDE.ON && after !== SIDE.ON) {
          expect(after).toBe(-before);
        }
        // Conversely, both endpoints strictly on one side means no contact.
        if (before !== SIDE.ON && before === after) expect(segmentsIntersect(movement, line)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('is invariant under translation and positive scaling (property)', () => {
    fc.assert(
      fc.property(gridSegmentArb, gridSegmentArb, gridShiftArb, gridShiftArb, gridScaleArb, (s1, s2, dx, dy, k) => {
        const expected = segmentsIntersect(s1, s2);
        const moved = (q: Point): Point => translatePoint(q, dx, dy);
        const scaled = (q: Point): Point => scalePoint(q, k);
        expect(segmentsIntersect(mapSegment(s1, moved), mapSegment(s2, moved))).toBe(expected);
        expect(segmentsIntersect(mapSegment(s1, scaled), mapSegment(s2, scaled))).toBe(expected);
      }),
    );
  });
});
