// Reads an iCalendar file from stdin and prints its events as JSON, as ical.js understands them.
import ICAL from "ical.js";

let input = "";
for await (const chunk of process.stdin) input += chunk;
const calendar = new ICAL.Component(ICAL.parse(input));
const events = calendar.getAllSubcomponents("vevent").map((component) => {
  const event = new ICAL.Event(component);
  return {
    uid: event.uid,
    start: event.startDate.toString(),
    end: event.endDate.toString(),
    allDay: event.startDate.isDate,
    summary: event.summary,
    sequence: event.sequence,
    status: component.getFirstPropertyValue("status"),
    description: event.description,
  };
});
console.log(JSON.stringify({
  name: calendar.getFirstPropertyValue("x-wr-calname"),
  refresh: String(calendar.getFirstPropertyValue("refresh-interval")),
  events,
}));
