// Distance and an estimated drive time: straight line (haversine) × a road factor, at an average speed.
export const ROAD_FACTOR = 1.3;
export const SPEED_KMH = 60;

export function km(a, b) {
  const R = 6371, rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad, dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * R * Math.asin(Math.sqrt(h));
}
export function trip(from, to) {
  if (!from) return null;
  const road = km(from, to) * ROAD_FACTOR;
  return { km: road, min: Math.round((road / SPEED_KMH) * 60) };
}
export function locate(timeout = 8000) {
  return new Promise(resolve => {
    if (!navigator.geolocation) { resolve(null); return; }
    navigator.geolocation.getCurrentPosition(
      p => resolve({ lat: p.coords.latitude, lon: p.coords.longitude }),
      () => resolve(null),
      { enableHighAccuracy: false, timeout, maximumAge: 300000 });
  });
}
