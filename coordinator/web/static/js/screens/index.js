// @ts-check
// Every domain's screens, in navigation order. A domain adds its screen module here; the
// module registers itself (registry.js) when imported.
import "./map.js";
import "./incidents.js";
import "./centres.js";
import "./fleet.js";
import "./owners.js";
import "./myorg.js";
import "./rules.js";
import "./units.js";
import "./wall.js";
import "./population.js";
import "./hotline.js";
import "./hall.js";
import "./fraud.js";
import "./cases.js";
import "./companies.js";
import "./check.js";
import "./merchant.js";
import "./staff.js";
import "./access.js";
import "./audit.js";
