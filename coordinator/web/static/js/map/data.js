// @ts-check
// What the map draws, fetched once per mount: zones, roads, cameras, units, incidents.
import { dispatchListUnits, geographyGetRoads, geographyGetZones, listIncidents, mapCameras } from "../api_client.js";
import { session } from "../http.js";
import { t } from "../i18n.js";

// One compact, columnar answer for every camera (id, lat, lon, health) instead of pages
// of full device records: ~10x fewer bytes for 24,000 cameras.
export async function fetchAllDevices() {
  const c = await mapCameras();
  if (!c || !Array.isArray(c.id)) throw new Error(t("map.bad_data"));
  const out = new Array(c.id.length);
  for (let i = 0; i < c.id.length; i++) out[i] = { id: c.id[i], lat: c.lat[i], lon: c.lon[i], health_status: c.status[i] };
  return out;
}

/** Every layer the caller may read (the others empty). */
export async function loadCity() {
  const units = session.can("units:read");
  const [zones, roads, devices, unitList, incidents] = await Promise.all([
    units ? geographyGetZones().catch(() => null) : null,
    units ? geographyGetRoads().then((r) => r.lines).catch(() => []) : [],
    session.can("devices:read") ? fetchAllDevices() : [],
    units ? dispatchListUnits().catch(() => []) : [],
    session.can("incidents:read") ? listIncidents({ limit: 500 }).catch(() => []) : [],
  ]);
  return { zones, roads, devices, units: unitList, incidents };
}
