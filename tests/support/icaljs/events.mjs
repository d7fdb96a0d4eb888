// Prints, as JSON, what Mozilla's ical.js reads in the .ics files given as arguments:
//   node events.mjs a.ics b.ics  →  [{file, name, timezones, events: [{uid, summary, start, end, ...}]}]
// Each VTIMEZONE of a file is registered before its events are read, so TZID times are converted
// with the file's own definitions: a missing or wrong VTIMEZONE shows as a wrong UTC instant.
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

function instant(time) {
  if (!time) return null;
  if (time.isDate) return { date: time.toString(), allDay: true };
  return { utc: time.toJSDate().toISOString(), tzid: time.zone ? time.zone.tzid : null, allDay: false };
}

const files = process.argv.slice(2).map((file) => {
  const root = new ICAL.Component(ICAL.parse(readFileSync(file, "utf8")));
  ICAL.TimezoneService.reset();
  const timezones = root.getAllSubcomponents("vtimezone").map((component) => {
    const zone = new ICAL.Timezone(component);
    ICAL.TimezoneService.register(zone);
    return zone.tzid;
  });
  const events = root.getAllSubcomponents("vevent").map((component) => {
    const event = new ICAL.Event(component);
    const tzids = ["dtstart", "dtend"]
      .map((name) => component.getFirstProperty(name))
      .filter((property) => property && property.getParameter("tzid"))
      .map((property) => property.getParameter("tzid"));
    const recurrence = event.isRecurring()
      ? (() => {
          const iterator = event.iterator();
          const next = [];
          for (let i = 0; i < 12; i++) {
            const occurrence = iterator.next();
            if (!occurrence) break;
            next.push(occurrence.toJSDate().toISOString());
          }
          return next;
        })()
      : null;
    return {
      uid: event.uid,
      summary: event.summary,
      start: instant(event.startDate),
      end: instant(event.endDate),
      sequence: event.sequence,
      status: component.getFirstPropertyValue("status"),
      location: event.location,
      description: event.description,
      url: component.getFirstPropertyValue("url"),
      tzids,
      alarms: component.getAllSubcomponents("valarm").map((alarm) => String(alarm.getFirstPropertyValue("trigger"))),
      occurrences: recurrence,
    };
  });
  return {
    file,
    name: root.getFirstPropertyValue("x-wr-calname"),
    method: root.getFirstPropertyValue("method"),
    timezones,
    events,
  };
});
process.stdout.write(JSON.stringify(files));
