import * as geometry from '@vigil/geometry';

describe('@vigil/geometry barrel', () => {
  it('exposes the whole API through the alias', () => {
    const functions = [
      'pointToPixels',
      'pointFromPixels',
      'polygonToPixels',
      'polygonFromPixels',
      'boxToPixels',
      'boxFromPixels',
      'clamp',
      'clampUnit',
      'clampPoint',
      'clampPolygon',
      'clampBox',
      'clampPixelBox',
      'cross',
      'distanceBetweenPoints',
      'sideOfLine',
      'distancePointToSegment',
      'segmentsIntersect',
      'segmentIntersection',
      'polygonSignedArea',
      'polygonArea',
      'polygonBoundingBox',
      'polygonCentroid',
      'pointPolygonRelation',
      'pointInPolygon',
      'findPolygonDefect',
      'isSimplePolygon',
      'describePolygonDefect',
      'clipPolygonToBox',
      'polygonBoxIntersectionArea',
      'boxWidth',
      'boxHeight',
      'boxArea',
      'boxCentre',
      'boxBottomCentre',
      'pointInBox',
      'boxIntersectionArea',
      'boxIoU',
      'boxFootprint',
      'footprintFractionInPolygon',
    ];
    for (const name of functions) expect(typeof (geometry as Record<string, unknown>)[name]).toBe('function');
    expect(geometry.GEOMETRY_EPSILON).toBe(1e-9);
    expect(geometry.SIDE).toEqual({ LEFT: -1, ON: 0, RIGHT: 1 });
    expect(geometry.DEFAULT_FOOTPRINT_FRACTION).toBe(0.25);
  });

  it('keeps the fast-check test generators out of the production API', () => {
    expect(Object.keys(geometry)).not.toContain('starPolygonArb');
    expect(Object.keys(geometry)).not.toContain('realArb');
  });
});
