export * from './onvif.errors';
export * from './ws-discovery.client';
export * from './detection-profile';
export * from './onvif-camera.client';
